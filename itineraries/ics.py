"""An itinerary as an iCalendar file (RFC 5545).

All-day events for the arrival, every night's lodging and the departure; one
timed event per programme item, in Asia/Shanghai time, lasting until the next
item of the day (an hour for the day's last item).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from itineraries.builder import Itinerary, ItineraryDay

SHANGHAI = ZoneInfo("Asia/Shanghai")
LAST_ITEM_LENGTH = dt.timedelta(hours=1)
UID_DOMAIN = "retreat.itinerary"


def itinerary_calendar(itinerary: Itinerary, *, stamp: dt.datetime) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//职工疗休养服务平台//itinerary//ZH")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{itinerary.title} · {itinerary.reference}")
    calendar.add("x-wr-timezone", "Asia/Shanghai")
    contacts = "\n".join(f"{c.role}：{c.name} {c.phone}".strip() for c in itinerary.contacts)
    for day in itinerary.days:
        for event in _day_events(itinerary, day, contacts=contacts):
            event.add("dtstamp", stamp)
            calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _day_events(itinerary: Itinerary, day: ItineraryDay, *, contacts: str) -> list[Event]:
    events = []
    place = itinerary.arrival_place
    if day.is_arrival:
        events.append(
            _all_day(
                uid=_uid(itinerary, "arrival", day.date),
                date=day.date,
                summary=f"抵达：{place.name}",
                location=place.address,
                description=f"{itinerary.title}（{itinerary.people} 人）\n{contacts}",
            )
        )
    for index, lodging in enumerate(day.lodging):
        events.append(
            _all_day(
                uid=_uid(itinerary, f"night-{index}", day.date),
                date=day.date,
                summary=f"住宿：{lodging.place.name} · {lodging.room_type}",
                location=lodging.place.address,
                description=f"{lodging.rooms} 间 / {lodging.people} 人；餐食：{'、'.join(day.meals) or '—'}",
            )
        )
    for index, item in enumerate(day.programme):
        start = dt.datetime.combine(day.date, item.time, tzinfo=SHANGHAI)
        later = [other.time for other in day.programme[index + 1:] if other.time > item.time]
        end = dt.datetime.combine(day.date, later[0], tzinfo=SHANGHAI) if later else start + LAST_ITEM_LENGTH
        event = Event()
        event.add("uid", _uid(itinerary, f"item-{index}", day.date))
        event.add("summary", item.activity)
        event.add("location", item.place)
        event.add("dtstart", start)
        event.add("dtend", end)
        if item.meals:
            event.add("description", f"餐食：{item.meals}")
        events.append(event)
    if day.is_departure:
        events.append(
            _all_day(
                uid=_uid(itinerary, "departure", day.date),
                date=day.date,
                summary=f"返程：离开 {itinerary.departure_place.name}",
                location=itinerary.departure_place.address,
                description=f"餐食：{'、'.join(day.meals) or '—'}",
            )
        )
    return events


def _all_day(*, uid: str, date: dt.date, summary: str, location: str, description: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", summary)
    event.add("location", location)
    event.add("description", description)
    event.add("dtstart", date)
    event.add("dtend", date + dt.timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    return event


def _uid(itinerary: Itinerary, what: str, date: dt.date) -> str:
    return f"{itinerary.reference}-{date:%Y%m%d}-{what}@{UID_DOMAIN}"
