"""``mail-offline`` and ``mail-online``: a laptop's mail program loses and regains the network."""

from __future__ import annotations

from netsim.events.registry import EventContext, handles
from netsim.scenario import model as m


@handles(m.MailOfflineEvent)
def mail_offline(context: EventContext, event: m.MailOfflineEvent) -> None:
    """Tell the host's disconnected-use IMAP client (validation made sure it has one)."""
    from netsim.apps.imap_offline import client_on

    client = client_on(context.sim, event.host)
    assert client is not None
    if event.action == "mail-offline":
        client.go_offline()
    else:
        client.go_online()
