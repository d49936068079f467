"""Feature flags and the audit log, now the platform's: the tables keep the names the `staff` app gave them.

A database that has them (the `staff` app created them before this step) keeps them and their rows; a
fresh one gets them here, whether or not a `staff` app exists. The models enter the migration state
first (SeparateDatabaseAndState), then the tables are created where they are missing, and the content
types move with the models, so admin history and permissions stay attached.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MODELS = ("AuditEntry", "Flag")


def tables_create_missing(apps, schema_editor):
    existing = set(schema_editor.connection.introspection.table_names())
    for name in MODELS:
        model = apps.get_model("core", name)
        if model._meta.db_table not in existing:
            schema_editor.create_model(model)


def tables_drop(apps, schema_editor):
    for name in MODELS:
        schema_editor.delete_model(apps.get_model("core", name))


def content_types_move(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ("auditentry", "flag"):
        if not ContentType.objects.filter(app_label="core", model=model).exists():
            ContentType.objects.filter(app_label="staff", model=model).update(app_label="core")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('actor_email', models.EmailField(help_text='Kept even if the account is deleted later.', max_length=254)),
                        ('action', models.CharField(db_index=True, max_length=64)),
                        ('target_type', models.CharField(max_length=64)),
                        ('target_id', models.CharField(max_length=64)),
                        ('target_repr', models.CharField(max_length=200)),
                        ('detail', models.JSONField(blank=True, default=dict)),
                        ('created_at', models.DateTimeField(auto_now_add=True, db_index=True)),
                        ('actor', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name_plural': 'audit entries',
                        'db_table': 'staff_auditentry',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='Flag',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.SlugField(unique=True)),
                        ('enabled', models.BooleanField(default=False)),
                        ('label', models.CharField(max_length=100)),
                        ('description', models.CharField(blank=True, max_length=255)),
                        ('message', models.CharField(blank=True, help_text='Text shown by flags that display something (the banner).', max_length=280)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'staff_flag',
                        'ordering': ['name'],
                    },
                ),
            ],
        ),
        migrations.RunPython(tables_create_missing, tables_drop),
        migrations.RunPython(content_types_move, migrations.RunPython.noop),
    ]
