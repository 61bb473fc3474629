"""The puppet-service protocol as the Node server puts it on the wire: event and message types as raw
numbers (the generated stub's enum names are numbered differently), and gRPC errors in one line.

Message types: Attachment 1, Audio 2, Contact 3, ChatHistory 4, Emoticon 5, Image 6, Text 7,
Location 8, MiniProgram 9, GroupNote 10, Transfer 11, RedEnvelope 12, Recalled 13, Url 14, Video 15,
Post 16.
"""

from __future__ import annotations

EVENT = {"heartbeat": 1, "message": 2, "dong": 3, "error": 16, "friendship": 17, "room_invite": 18,
         "room_join": 19, "room_leave": 20, "room_topic": 21, "scan": 22, "ready": 23, "reset": 24,
         "login": 25, "logout": 26, "dirty": 27}
MSG = {"attachment": 1, "audio": 2, "contact": 3, "chat_history": 4, "emoticon": 5, "image": 6, "text": 7,
       "location": 8, "mini_program": 9, "group_note": 10, "transfer": 11, "red_envelope": 12, "recalled": 13,
       "url": 14, "video": 15, "post": 16}


def brief(exc: BaseException) -> str:
    """An exception in one line (a gRPC error from the Node server carries its stack)."""
    text = str(getattr(exc, "message", None) or exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0] if text else ''}"
