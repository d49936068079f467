from django import forms

from posts.models import Post


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
        help_texts = {"body": "Markdown. Raw HTML is removed."}
        # Form fields strip whitespace: a title of spaces is a missing title.
        error_messages = {
            "title": {"required": "Give your post a title."},
            "body": {"required": "Write something in the body."},
        }
