from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.safestring import SafeString

from core.markdown import render_markdown


class Conversation(models.Model):
    """One chat thread of one member within one team (their own: teammates do not read it); its title is
    the start of the first message. It goes with the team, and with the account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations")
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["-updated_at", "-id"]
        indexes: ClassVar[list[models.Index]] = [
            models.Index(fields=["user", "-updated_at"]),
            models.Index(fields=["team", "user", "-updated_at"], name="chat_conv_team_user_updated"),
        ]

    def __str__(self) -> str:
        return self.title


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    class Status(models.TextChoices):
        COMPLETE = "complete", "Complete"
        INCOMPLETE = "incomplete", "Incomplete"  # cut short: the client left or the upstream failed midway
        ERROR = "error", "Error"  # the upstream refused before any text: not an answer

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    stop_reason = models.CharField(max_length=32, blank=True)
    error_code = models.CharField(max_length=32, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering: ClassVar[list[str]] = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"

    @property
    def html(self) -> SafeString:
        """The content as sanitized HTML: model output is untrusted, nothing in it ever runs."""
        return render_markdown(self.content)


class DailyUsage(models.Model):
    """What a team used of the chat on one UTC day, all its members together (the quota is the team's
    plan's). A ledger apart from the messages, so deleting a conversation never gives back the day's quota."""

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    messages = models.PositiveIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints: ClassVar[list[models.BaseConstraint]] = [
            models.UniqueConstraint(fields=["team", "day"], name="chat_daily_usage_team_day")
        ]
        verbose_name_plural = "daily usage"

    def __str__(self) -> str:
        return f"team {self.team_id} {self.day}: {self.messages}"
