from django import forms


class FlagMessageForm(forms.Form):
    message = forms.CharField(
        max_length=280,
        required=False,
        label="Banner message",
        widget=forms.TextInput(attrs={"placeholder": "We are upgrading the database tonight at 22:00 UTC."}),
    )

    def clean_message(self) -> str:
        message: str = self.cleaned_data["message"]
        return message.strip()
