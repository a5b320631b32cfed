"""The day-by-day itinerary of a booking, as plain data.

Nothing here touches Django: ``itineraries.selectors`` turns a booking into
``StayFacts`` and ``build_itinerary`` lays the stay out day by day. The page, the
API, the PDF and the iCalendar file all render the same ``Itinerary``.
"""

import datetime as dt
import re
from dataclasses import dataclass

# Meals of a plain stay: dinner on arrival, three meals on full days, breakfast before leaving.
ARRIVAL_DAY_MEALS = ("晚餐",)
FULL_DAY_MEALS = ("早餐", "午餐", "晚餐")
DEPARTURE_DAY_MEALS = ("早餐",)
_MEAL_SEPARATORS = re.compile(r"[、，,/；;\s]+")


@dataclass(frozen=True)
class Place:
    base_id: int
    name: str
    address: str
    contact_name: str
    contact_phone: str
    contact_email: str


@dataclass(frozen=True)
class LodgingLine:
    """Rooms of one room type at ``place`` for ``nights`` nights from ``first_night``."""

    place: Place
    room_type: str
    first_night: dt.date
    nights: int
    rooms: int
    people: int

    def covers(self, night: dt.date) -> bool:
        return self.first_night <= night < self.first_night + dt.timedelta(days=self.nights)


@dataclass(frozen=True)
class ProgrammeItem:
    time: dt.time
    place: str
    activity: str
    meals: str


@dataclass(frozen=True)
class ProgrammeDay:
    number: int
    items: tuple[ProgrammeItem, ...]


CONTACT_ROLES = {"base": "基地联系人", "organiser": "工会组织者"}


@dataclass(frozen=True)
class Contact:
    kind: str  # "base" or "organiser": pages print the role in the reader's language, documents in Chinese
    of: str    # the base's or the union's name
    name: str
    phone: str
    email: str

    @property
    def role(self) -> str:
        return f"{CONTACT_ROLES[self.kind]} · {self.of}"


@dataclass(frozen=True)
class Traveller:
    participant_id: int
    name: str
    gender: str
    category: str
    employer: str
    room: str


@dataclass(frozen=True)
class StayFacts:
    """Everything the itinerary is made of, read from the booking."""

    reference: str
    title: str
    union_name: str
    arrival_place: Place
    arrival: dt.date
    nights: int
    people: int
    lodging: tuple[LodgingLine, ...]
    organiser: Contact
    travellers: tuple[Traveller, ...]
    route_title: str = ""
    programme: tuple[ProgrammeDay, ...] = ()


@dataclass(frozen=True)
class Lodging:
    place: Place
    room_type: str
    rooms: int
    people: int


@dataclass(frozen=True)
class ItineraryDay:
    number: int
    date: dt.date
    headline: str
    is_arrival: bool
    is_departure: bool
    lodging: tuple[Lodging, ...]
    meals: tuple[str, ...]
    programme: tuple[ProgrammeItem, ...]


@dataclass(frozen=True)
class Itinerary:
    reference: str
    title: str
    union_name: str
    arrival_place: Place
    departure_place: Place
    arrival: dt.date
    departure: dt.date
    nights: int
    people: int
    route_title: str
    days: tuple[ItineraryDay, ...]
    contacts: tuple[Contact, ...]
    travellers: tuple[Traveller, ...]

    @property
    def is_route(self) -> bool:
        return bool(self.route_title)


def build_itinerary(stay: StayFacts) -> Itinerary:
    programme = {day.number: day.items for day in stay.programme}
    day_count = max(stay.nights + 1, max(programme, default=0))
    departure = stay.arrival + dt.timedelta(days=day_count - 1)
    departure_place = _last_lodging_place(stay)
    days = []
    for number in range(1, day_count + 1):
        date = stay.arrival + dt.timedelta(days=number - 1)
        items = programme.get(number, ())
        is_arrival, is_departure = number == 1, number == day_count
        days.append(
            ItineraryDay(
                number=number,
                date=date,
                headline=_headline(stay, number=number, is_arrival=is_arrival, is_departure=is_departure, leaving=departure_place),
                is_arrival=is_arrival,
                is_departure=is_departure,
                lodging=_lodging_on(stay.lodging, date),
                meals=_meals_from(items) if stay.programme else _plain_meals(is_arrival=is_arrival, is_departure=is_departure),
                programme=tuple(sorted(items, key=lambda item: item.time)),
            )
        )
    return Itinerary(
        reference=stay.reference,
        title=stay.title,
        union_name=stay.union_name,
        arrival_place=stay.arrival_place,
        departure_place=departure_place,
        arrival=stay.arrival,
        departure=departure,
        nights=stay.nights,
        people=stay.people,
        route_title=stay.route_title,
        days=tuple(days),
        contacts=_contacts(stay),
        travellers=stay.travellers,
    )


def _headline(stay: StayFacts, *, number: int, is_arrival: bool, is_departure: bool, leaving: Place) -> str:
    if is_arrival:
        return f"抵达 {stay.arrival_place.name}"
    if is_departure:
        return f"离开 {leaving.name}，返程"
    return f"第 {number} 天"


def _last_lodging_place(stay: StayFacts) -> Place:
    """Where the group wakes up on the day it leaves: the base of the last booked night."""
    if not stay.lodging:
        return stay.arrival_place
    return max(stay.lodging, key=lambda line: line.first_night + dt.timedelta(days=line.nights)).place


def _lodging_on(lines: tuple[LodgingLine, ...], night: dt.date) -> tuple[Lodging, ...]:
    return tuple(
        Lodging(place=line.place, room_type=line.room_type, rooms=line.rooms, people=line.people)
        for line in lines
        if line.covers(night)
    )


def _plain_meals(*, is_arrival: bool, is_departure: bool) -> tuple[str, ...]:
    if is_arrival:
        return ARRIVAL_DAY_MEALS
    if is_departure:
        return DEPARTURE_DAY_MEALS
    return FULL_DAY_MEALS


def _meals_from(items: tuple[ProgrammeItem, ...]) -> tuple[str, ...]:
    meals: dict[str, None] = {}
    for item in sorted(items, key=lambda item: item.time):
        for meal in _MEAL_SEPARATORS.split(item.meals):
            if meal:
                meals[meal] = None
    return tuple(meals)


def _contacts(stay: StayFacts) -> tuple[Contact, ...]:
    places = {stay.arrival_place.base_id: stay.arrival_place}
    for line in stay.lodging:
        places.setdefault(line.place.base_id, line.place)
    base_contacts = tuple(
        Contact(kind="base", of=place.name, name=place.contact_name, phone=place.contact_phone, email=place.contact_email)
        for place in places.values()
    )
    return (*base_contacts, stay.organiser)
