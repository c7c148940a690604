from django import forms


class AddToCartForm(forms.Form):
    product_id = forms.IntegerField(min_value=1)
    quantity = forms.IntegerField(min_value=0, max_value=99, initial=1)
    replace = forms.BooleanField(required=False)


class CheckoutForm(forms.Form):
    card_token = forms.CharField(max_length=64, help_text="Token from the payment widget")
    use_points = forms.BooleanField(required=False)
    accept_terms = forms.BooleanField(required=True)


class ShipForm(forms.Form):
    carrier = forms.ChoiceField(choices=[("colissimo", "Colissimo"), ("dhl", "DHL"), ("ups", "UPS")])
    tracking_number = forms.CharField(max_length=64)
