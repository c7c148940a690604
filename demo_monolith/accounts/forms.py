from django import forms
from django.contrib.auth import get_user_model

from accounts.models import Customer


class RegisterForm(forms.Form):
    username = forms.CharField(max_length=150)
    email = forms.EmailField()
    password = forms.CharField(widget=forms.PasswordInput, min_length=8)
    country = forms.CharField(max_length=2, initial="FR")

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError("That username is taken.")
        return username

    def clean_country(self):
        return self.cleaned_data["country"].upper()


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Customer
        fields = ["phone", "address_line1", "address_line2", "city", "postcode", "country", "marketing_opt_in"]
