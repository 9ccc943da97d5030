"""The four HTTP providers as the sandbox plays them: each function takes the request's parameters
and the world, and returns the answer body in that provider's exact format (docs/providers.md,
each provider's section)."""

from __future__ import annotations

import re
import time
from decimal import Decimal, InvalidOperation

from smsportal.sms.encoding import analyse

from .world import Account, World

Params = dict[str, str]


def _segments(text: str) -> int:
    return max(1, analyse(text).segments)


def _numbers(value: str) -> list[str]:
    return [n.strip() for n in value.split(",") if n.strip()]


def _valid_number(number: str) -> bool:
    return bool(re.fullmatch(r"\d{8,15}", number))


# --- KalaSMS: /core/smsdo.aspx?opt=... -----------------------------------------------------------


def kalasms(params: Params, world: World, push) -> str:
    account = world.authenticate("kalasms", params.get("user", ""), params.get("pwd", ""))
    if account is None:
        return "Invalid user or password"
    opt = params.get("opt", "")
    if opt in ("sendsms", "rssendsms"):
        number, text = params.get("destination", ""), params.get("message", "")
        if not _valid_number(number) or account.faults.is_invalid(number):
            return "Invalid destination"
        if not text:
            return "Empty message"
        if not world.charge(account, Decimal(_segments(text))):
            return "Insufficient credit"
        received = world.record("kalasms", account.username, number, text)
        world.report_words[(account.username, received.message_id)] = _word(account.dlr_status)
        return received.message_id
    if opt == "sendbulk":
        members = account.lists.get(params.get("list", ""))
        if members is None:
            return "List not found"
        text = params.get("message", "")
        if not world.charge(account, Decimal(_segments(text) * len(members))):
            return "Insufficient credit"
        message_id = world.new_id()
        for number in members:
            world.record("kalasms", account.username, number, text, message_id=message_id)
        return message_id
    if opt == "displaycredit":
        return str(account.credit)
    if opt == "getmessagedelreport":
        return world.report_words.get((account.username, params.get("messageid", "")), "unknown")
    if opt == "delreport":
        with world.lock:
            lines = [
                f"{mid},{word}"
                for (user, mid), word in world.report_words.items()
                if user == account.username
            ]
        return "\n".join(lines[-100:]) or "No reports"
    if opt == "displists":
        return "\n".join(sorted(account.lists)) or "No lists"
    if opt == "createlist":
        name = params.get("list", "")
        if not name or name in account.lists:
            return "List exists or name missing"
        account.lists[name] = []
        return "OK"
    if opt == "deletelist":
        if account.lists.pop(params.get("list", ""), None) is None:
            return "List not found"
        return "OK"
    if opt == "addcontacttolist":
        members = account.lists.get(params.get("list", ""))
        contact = params.get("contact", "")
        if members is None or not _valid_number(contact):
            return "List not found or invalid contact"
        if contact not in members:
            members.append(contact)
        return "OK"
    if opt == "defaultsenderid":
        if params.get("choice") not in ("0", "1"):
            return "Invalid choice"
        account.default_sender_choice = params["choice"]
        return "OK"
    return "Unknown operation"


def _word(isms_status: str) -> str:
    return {"6": "delivered", "7": "failed", "8": "expired", "10": "rejected"}.get(
        isms_status, "delivered"
    )


# --- KwtSMS: /API/<command>/ --------------------------------------------------------------------


def kwtsms(command: str, params: Params, world: World, push) -> str:
    account = world.authenticate("kwtsms", params.get("username", ""), params.get("password", ""))
    if account is None:
        return "ERR003:Wrong username or password"
    if command == "balance":
        return f"{account.credit.normalize():f}/{account.purchased.normalize():f}"
    if command == "senderid":
        return "\n".join(account.sender_ids) or "ERR008:No sender ID"
    if command != "send":
        return "ERR001:Unknown command"
    numbers = _numbers(params.get("mobile", ""))
    text = params.get("message", "")
    if not numbers:
        return "ERR006:No valid numbers"
    if len(numbers) > 200:
        return "ERR007:Too many numbers (more than 200)"
    if not text:
        return "ERR009:Empty message"
    if params.get("lang") not in ("1", "2", "3", "4"):
        return "ERR012:Invalid lang"
    valid = [n for n in numbers if _valid_number(n) and not account.faults.is_invalid(n)]
    if not valid:
        return "ERR006:No valid numbers"
    points = _segments(text) * len(valid)
    if not world.charge(account, Decimal(points)):
        return "ERR010:Insufficient balance"
    message_id = world.new_id().rjust(32, "0")
    for number in valid:
        world.record("kwtsms", account.username, number, text, params.get("sender", ""), message_id)
    balance = f"{account.credit.normalize():f}"
    return f"OK:{message_id}:{len(valid)}:{points}:{balance}:{int(time.time())}"


# --- ISMS: /websmsapi/<page> --------------------------------------------------------------------


def isms(page: str, params: Params, world: World, push) -> str:
    account = world.authenticate("isms", params.get("username", ""), params.get("password", ""))
    if account is None:
        return "1702"
    if page == "creditsLeft.aspx":
        return f"{account.used.normalize():f},{account.credit.normalize():f}"
    if page == "transfer.aspx":
        return _isms_transfer(account, params, world)
    if page not in (
        "ISendSMS.aspx",
        "ISendSMSNoDR.aspx",
        "ISendSMSUnicode.aspx",
        "ISendSMS2D.aspx",
    ):
        return "1703"
    seqno = params.get("seqno", "")
    if seqno and world.seen_seqno(account, seqno):
        return "1718"
    if account.faults.send_error:
        return account.faults.send_error
    try:
        text, kind, details, segments = _isms_content(page, params)
    except ValueError:
        return "1706"
    sender = params.get("sender", "")
    if not text or len(sender) > 13 or (not sender.isdigit() and len(sender) > 11):
        return "1706"
    numbers = _numbers(params.get("mobile", ""))
    if not numbers or (page != "ISendSMSNoDR.aspx" and len(numbers) != 1):
        return "1705"
    if any(not _valid_number(n) or account.faults.is_invalid(n) for n in numbers):
        return "1705"
    if not world.charge(account, Decimal(segments * len(numbers))):
        return "1704"
    if page == "ISendSMSNoDR.aspx":
        for number in numbers:
            world.record("isms", account.username, number, text, sender, kind=kind, details=details)
        return "1701"
    message_id = world.new_id()
    if kind == "barcode":
        # ISMS makes the barcode; its number replaces %barcode% in the text.
        number = message_id.rjust(12, "0")
        text = text.replace("%barcode%", number)
        details += f", barcode number {number}"
    received = world.record(
        "isms", account.username, numbers[0], text, sender, message_id, kind=kind, details=details
    )
    if account.callback_url:
        push(
            account,
            "dlr",
            {
                "MsgId": received.message_id,
                "Status": account.dlr_status,
                "Sender": sender or "63633",
            },
        )
    return f"1701:{received.message_id}"


ISMS_KINDS = {"1": "text", "2": "flash", "3": "unicode", "4": "unicode flash"}
ISMS_BARCODE_TYPES = {"EMS", "Nokia", "MMS", "textmsg", "textlink"}


def _isms_content(page: str, params: Params) -> tuple[str, str, str, int]:
    """(text as the phone shows it, kind, details, segments) of a send; ValueError -> 1706."""
    text = params.get("message", "")
    if page == "ISendSMS2D.aspx":
        msg_type = params.get("MsgType", "")
        if msg_type not in ISMS_BARCODE_TYPES:
            raise ValueError(msg_type)
        return text, "barcode", f"2D barcode, MsgType {msg_type}", _segments(text)
    kind = params.get("type", "1")
    if kind in ("5", "6"):
        data = bytes.fromhex(text)
        if not data or len(data) > 140:
            raise ValueError(len(data))
        if kind == "5":
            header = data[: data[0] + 1]
            if data[0] == 0 or len(header) > len(data):
                raise ValueError("UDH")
            details = (
                f"binary, UDH {header.hex(' ').upper()}, {len(data) - len(header)} data octets"
            )
        else:
            details = f"binary without UDH, {len(data)} octets"
        return data.hex(" ").upper(), "binary", details, 1
    if kind not in ISMS_KINDS:
        raise ValueError(kind)
    if page == "ISendSMS.aspx" and kind in ("3", "4"):
        text = bytes.fromhex(text).decode("utf-16-be")
    return text, ISMS_KINDS[kind], f"type {kind}", _segments(text)


def _isms_transfer(account: Account, params: Params, world: World) -> str:
    seqno = params.get("seqno", "")
    if seqno and world.seen_seqno(account, seqno):
        return "1718"
    customer = world.account("isms", params.get("cust", ""))
    if customer is None or customer is account:
        return "1708"
    try:
        amount = Decimal(params.get("credit", ""))
    except InvalidOperation:
        return "1709"
    if amount <= 0 or amount != amount.to_integral_value() or not world.charge(account, amount):
        return "1709"
    with world.lock:
        customer.credit += amount
        customer.purchased += amount
    return "1707"


# --- IntelliSoftware: /smsgateway/sendmsg.aspx ---------------------------------------------------


def intellisoftware(params: Params, world: World, push) -> str:
    # The credentials are checked first, so a request without `to` and `text` (the portal's
    # connection test) tells a bad login (LOGIN_INVALID) from a good one (NO_TO).
    for required in ("username", "password"):
        if not params.get(required):
            return f"ERR:NO_{required.upper()}"
    account = world.authenticate("intellisoftware", params["username"], params["password"])
    if account is None:
        return "ERR:LOGIN_INVALID"
    for required in ("to", "text"):
        if not params.get(required):
            return f"ERR:NO_{required.upper()}"
    if account.faults.send_error:  # GATEWAY_ERROR, INTERNAL_ERROR: the gateway's "try later"
        return f"ERR:{account.faults.send_error}"
    numbers = _numbers(params["to"])
    if len(numbers) > 100 or params.get("type", "1") not in ("1", "6"):
        return "ERR:INVALID_REQUEST"
    kind = "voice" if params.get("type") == "6" else "text"
    text = params["text"]
    segments = _segments(text)
    try:
        maxconcat = int(params.get("maxconcat") or 1)
    except ValueError:
        return "ERR:INVALID_REQUEST"
    if segments > maxconcat:
        # Sandbox decision: a text needing more parts than maxconcat is refused, not truncated.
        return "ERR:INVALID_REQUEST"
    unique = list(dict.fromkeys(numbers))  # the gateway drops duplicates
    valid = [n for n in unique if _valid_number(n) and not account.faults.is_invalid(n)]
    if valid and not world.charge(account, Decimal(segments * len(valid))):
        return "ERR:INSUFFICIENT_CREDIT"
    message_id = world.new_id()
    lines = []
    for number in unique:
        if number in valid:
            world.record(
                "intellisoftware",
                account.username,
                number,
                text,
                params.get("from", ""),
                message_id,
                kind=kind,
                details="voice call reading the text" if kind == "voice" else "",
            )
            lines.append(f"{number},ID:{message_id}")
        else:
            lines.append(f"{number},ERR:INVALID_NUMBER")
    if len(numbers) == 1:
        return lines[0].split(",", 1)[1]
    return "\n".join(lines)
