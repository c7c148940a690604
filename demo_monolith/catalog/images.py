"""
Product image thumbnails.

Called right after an image is uploaded. The thumbnail is written next to the
media files under a name derived from the product id, so nothing in the
database changes; templates check whether the file exists.
"""
import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps

from catalog.models import Product


def _fit(image, size):
    image = ImageOps.exif_transpose(image)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA")
    return ImageOps.fit(image, size, method=Image.Resampling.LANCZOS)


def make_thumbnail(product_id):
    """Render a square PNG thumbnail of the product's image into media storage."""
    product = Product.objects.get(pk=product_id)
    if not product.image:
        return None
    with product.image.open("rb") as source, Image.open(source) as original:
        thumb = _fit(original, tuple(settings.THUMBNAIL_SIZE))
    buf = io.BytesIO()
    thumb.save(buf, format="PNG", optimize=True)
    name = product.thumbnail_name
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(buf.getvalue()))
