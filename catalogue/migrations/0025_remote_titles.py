"""The titles of remote formations (« À distance »): a search with keywords and a place whose
local matches fill the page reads only the remote ones scoring more than the page's last (a
word in their title), not every remote match (« rncp »: 8 700)."""

import django.contrib.postgres.indexes
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0024_local_words"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="formationindex",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(("active", True), ("remote", True)), fields=["title"], name="catalogue_fi_remote_titles"
            ),
        ),
    ]
