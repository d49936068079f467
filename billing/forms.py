from django import forms


class CheckoutForm(forms.Form):
    # Rendered into the page: the same form sent twice (a double click) shares one idempotency key.
    attempt = forms.RegexField(regex=r"^[A-Za-z0-9]{8,64}$", required=False)


class SimulatedPortalForm(forms.Form):
    operation = forms.ChoiceField(
        choices=[
            ("cancel", "Cancel at the end of the period"),
            ("resume", "Resume the subscription"),
            ("cancel_now", "Cancel now"),
            ("fail_payment", "Simulate a failed renewal payment"),
            ("pay", "Pay the open invoice"),
        ]
    )
