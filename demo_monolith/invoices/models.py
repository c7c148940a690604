# Invoices are rendered on the fly from orders; there is no invoice table.
