from django.db import models

TRACKING_URLS = {
    "colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code={}",
    "dhl": "https://www.dhl.com/track?tracking-id={}",
    "ups": "https://www.ups.com/track?tracknum={}",
}


class Shipment(models.Model):
    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=32)
    tracking_number = models.CharField(max_length=64)
    shipped_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.carrier} {self.tracking_number}"

    @property
    def tracking_url(self):
        template = TRACKING_URLS.get(self.carrier.lower())
        return template.format(self.tracking_number) if template else ""
