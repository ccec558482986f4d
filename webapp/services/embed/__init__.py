"""Pulse embedded in other sites (issue 22): sites, threads by the host page, the
poll the host describes, host sign-in, the pop-up's sign-in code, the frame's headers,
comment counts."""

from webapp.services.embed.counts import MAX_THREADS, comment_counts
from webapp.services.embed.frame_codes import (
    FrameCodeExpired,
    FrameCodeInvalid,
    issue_frame_code,
    redeem_frame_code,
)
from webapp.services.embed.host_poll import (
    PollDescription,
    PollDescriptionExpired,
    PollDescriptionInvalid,
    PollNotTheHosts,
    apply_poll_description,
    poll_from_host,
    read_poll_description,
)
from webapp.services.embed.host_sign_in import (
    HostIdentity,
    HostTokenExpired,
    HostTokenInvalid,
    forget_used_tokens,
    identity_of,
    sign_in_host_reader,
    sign_out_host_reader,
    verify_host_token,
)
from webapp.services.embed.http import (
    FRAME_PREFIX,
    frame_headers,
    frame_policy,
    is_frame_path,
    popup_headers,
)
from webapp.services.embed.origins import normalise_origin, origin_of_url, parse_origins
from webapp.services.embed.sites import (
    SiteSettings,
    all_sites,
    allows_origin,
    check_settings,
    create_site,
    get_site,
    rotate_secret,
    update_site,
)
from webapp.services.embed.threads import (
    PageNotOnSite,
    ThreadTaken,
    attach_article,
    detach,
    find_thread,
    normalise_page_url,
    resolve_thread,
    thread_key,
    threads_of,
)

# The names the frame's views (webapp/embed/) call them by.
allow_framing = frame_headers
keep_opener = popup_headers
signed_out_of_frame = sign_out_host_reader

__all__ = [
    "FRAME_PREFIX",
    "MAX_THREADS",
    "FrameCodeExpired",
    "FrameCodeInvalid",
    "HostIdentity",
    "HostTokenExpired",
    "HostTokenInvalid",
    "PageNotOnSite",
    "PollDescription",
    "PollDescriptionExpired",
    "PollDescriptionInvalid",
    "PollNotTheHosts",
    "SiteSettings",
    "ThreadTaken",
    "all_sites",
    "allow_framing",
    "allows_origin",
    "apply_poll_description",
    "attach_article",
    "check_settings",
    "comment_counts",
    "create_site",
    "detach",
    "find_thread",
    "forget_used_tokens",
    "frame_headers",
    "frame_policy",
    "get_site",
    "identity_of",
    "is_frame_path",
    "issue_frame_code",
    "keep_opener",
    "normalise_origin",
    "normalise_page_url",
    "origin_of_url",
    "parse_origins",
    "poll_from_host",
    "popup_headers",
    "read_poll_description",
    "redeem_frame_code",
    "resolve_thread",
    "rotate_secret",
    "sign_in_host_reader",
    "sign_out_host_reader",
    "signed_out_of_frame",
    "thread_key",
    "threads_of",
    "update_site",
    "verify_host_token",
]
