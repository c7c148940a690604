from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalog.models import Product
from catalog.pricing import invalidate_price


@receiver(post_save, sender=Product)
@receiver(post_delete, sender=Product)
def clear_cached_price(sender, instance, **kwargs):
    invalidate_price(instance.pk)
