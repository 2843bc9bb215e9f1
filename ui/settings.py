"""Settings of the front ends (web UI, Slack bot, HTTP endpoints); with rag/settings.py, the only readers of the
environment."""

from __future__ import annotations

import os

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from rag import EnvSettings

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"


class WebSettings(EnvSettings):
    """The chat web UI (`papertrail serve`)."""

    model_config = SettingsConfigDict(env_prefix="PAPERTRAIL_UI_", extra="ignore", populate_by_name=True)

    auth: str | None = Field(
        default=None,
        description="`user:password` turning on the web UI's login; set it whenever the UI listens beyond 127.0.0.1.",
    )
    concurrency: int = Field(
        default=4, ge=1, description="Questions the web UI answers at the same time; the rest wait in its queue."
    )
    read_only: bool = Field(
        default=False, description="Hide the controls that change the library (Update from Daily Papers, Add papers)."
    )


class SlackSettings(EnvSettings):
    """The Slack bot (`papertrail slack`): Slack's own variable names for its secrets."""

    model_config = SettingsConfigDict(env_prefix="PAPERTRAIL_SLACK_", extra="ignore", populate_by_name=True)

    api_url: str = Field(
        default="https://slack.com/api/",
        description="Base URL of the Slack Web API the bot calls; tests point it at a local stand-in.",
    )
    bot_token: SecretStr | None = Field(
        default=None, validation_alias="SLACK_BOT_TOKEN", description="Bot User OAuth Token (xoxb-...)."
    )
    app_token: SecretStr | None = Field(
        default=None,
        validation_alias="SLACK_APP_TOKEN",
        description="App-level token (xapp-...) with connections:write; set: Socket Mode, unset: HTTP mode.",
    )
    signing_secret: SecretStr | None = Field(
        default=None, validation_alias="SLACK_SIGNING_SECRET", description="Verifies HTTP-mode requests (HTTP mode only)."
    )
    digest_channel: str | None = Field(
        default=None, description="Channel id the bot posts the papers of each sync that added some to (once per sync)."
    )
    digest_interval: float = Field(
        default=60.0, gt=0, description="Seconds between two looks at the sync state for a digest to post."
    )


class ApiSettings(EnvSettings):
    """The HTTP front ends for other programs: the OpenAI-compatible endpoint (`papertrail api`) and MCP over HTTP."""

    model_config = SettingsConfigDict(env_prefix="PAPERTRAIL_API_", extra="ignore", populate_by_name=True)

    key: SecretStr | None = Field(
        default=None,
        description="Bearer token every request must carry (`Authorization: Bearer <key>`); unset, the HTTP front ends "
        "listen on 127.0.0.1 only.",
    )
