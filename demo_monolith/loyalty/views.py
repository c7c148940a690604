from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.helpers import get_customer
from core.utils import quantize
from loyalty.services import get_account


@login_required
def balance(request):
    account = get_account(get_customer(request))
    transactions = account.transactions.select_related("order")[:20]
    context = {
        "account": account,
        "transactions": transactions,
        "worth": quantize(account.points * settings.LOYALTY_POINT_VALUE),
    }
    return render(request, "loyalty/balance.html", context)
