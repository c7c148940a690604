# notifications has no tables: it only reads orders and sends mail.
