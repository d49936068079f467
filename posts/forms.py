from django import forms

from posts.models import Post
from posts.rules import BODY_HELP, BODY_MESSAGES, TITLE_MESSAGES


class PostForm(forms.ModelForm[Post]):
    class Meta:
        model = Post
        fields = ["title", "body"]
        widgets = {
            "title": forms.TextInput(attrs={"placeholder": "A short title", "autocomplete": "off"}),
            "body": forms.Textarea(
                attrs={"rows": 4, "placeholder": "Write in Markdown: **bold**, _italic_, lists…"}
            ),
        }
        help_texts = {"body": BODY_HELP}
        # Form fields strip whitespace: a title of spaces is a missing title (as in the API).
        error_messages = {"title": TITLE_MESSAGES, "body": BODY_MESSAGES}


class PostSearchForm(forms.Form):
    """The staff panel's search over every post."""

    q = forms.CharField(required=False, max_length=100, label="Search")
