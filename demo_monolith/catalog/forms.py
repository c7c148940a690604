from django import forms

from catalog.models import Product


class ProductImageForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = ["image"]

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if not image:
            raise forms.ValidationError("Choose an image to upload.")
        if image.size > 5 * 1024 * 1024:
            raise forms.ValidationError("Images must be smaller than 5 MB.")
        return image


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    min_price = forms.DecimalField(required=False, min_value=0)
    max_price = forms.DecimalField(required=False, min_value=0)
    in_stock = forms.BooleanField(required=False)
