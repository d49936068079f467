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

    def clean_title(self) -> str:
        title: str = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give your post a title.")
        return title

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something in the body.")
        return body
