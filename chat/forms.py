from django import forms
from django.conf import settings

from chat.rules import MESSAGE_MESSAGES, validate_message_length


class MessageForm(forms.Form):
    message = forms.CharField(
        label="Message",
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Ask anything…", "autocomplete": "off"}),
        error_messages=MESSAGE_MESSAGES,
        validators=[validate_message_length],
    )
    conversation_id = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # Read at runtime, so the limit follows the setting (the stream endpoint's too).
        self.fields["message"].widget.attrs["maxlength"] = str(settings.CHAT_MAX_MESSAGE_CHARS)
