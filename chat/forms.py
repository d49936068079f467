from django import forms
from django.conf import settings


class MessageForm(forms.Form):
    message = forms.CharField(
        label="Message",
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Ask anything…", "autocomplete": "off"}),
        error_messages={"required": "Write a message first."},
    )
    conversation_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Read at runtime, so the limit follows the setting (the stream endpoint's too).
        self.fields["message"].widget.attrs["maxlength"] = str(settings.CHAT_MAX_MESSAGE_CHARS)

    def clean_message(self) -> str:
        message: str = self.cleaned_data["message"]
        limit = settings.CHAT_MAX_MESSAGE_CHARS
        if len(message) > limit:
            raise forms.ValidationError(f"Keep it under {limit} characters (this one has {len(message)}).")
        return message
