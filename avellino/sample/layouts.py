"""Each partner's export: file format, headers in its own language, its vocabulary, and the mapping file that
reads it back (docs/mappings.md). Headers and mappings are written from the same table, so they cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avellino.sample.fields import ITEMS, PAY_METHODS, TRANSPORT, Locale
from avellino.sample.observe import OUTCOMES

LOCALES = {
    "UK-NCA": Locale(
        "uk",
        "%d/%m/%Y",
        "%Y-%m-%d %H:%M:%S",
        nationality={
            "af": "AFG",
            "ir": "IRN",
            "iq": "IRQ",
            "sy": "SYR",
            "er": "ERI",
            "sd": "SDN",
            "vn": "VNM",
            "al": "ALB",
            "tr": "TUR",
            "eg": "EGY",
            "gb": "GBR",
            "fr": "FRA",
            "de": "DEU",
        },
        words={"gender": ("M", "F"), "pay_method": ("Hawala", "MTO", "Cash")},
        prefix={
            "persons": "NCA-P-",
            "calls": "NCA-C-",
            "payments": "NCA-F-",
            "crossings": "NCA-SB-",
            "adverts": "NCA-OS-",
            "vehicles": "NCA-V-",
        },
    ),
    "FR-OCRIEST": Locale(
        "fr",
        "%d/%m/%Y",
        "%d/%m/%Y %H:%M",
        nationality={
            "af": "AFGHANE",
            "ir": "IRANIENNE",
            "iq": "IRAKIENNE",
            "sy": "SYRIENNE",
            "er": "ERYTHREENNE",
            "sd": "SOUDANAISE",
            "vn": "VIETNAMIENNE",
            "al": "ALBANAISE",
            "tr": "TURQUE",
            "eg": "EGYPTIENNE",
            "gb": "BRITANNIQUE",
            "fr": "FRANCAISE",
            "de": "ALLEMANDE",
        },
        words={
            "gender": ("M", "F"),
            "outcome": ("ARRIVEE_RU", "INTERCEPTEE", "EMPECHEE", "CHAVIREE", "DECES"),
            "item": ("COQUE_GONFLABLE", "MOTEUR_HORS_BORD", "GILETS_SAUVETAGE", "CARBURANT", "POMPE"),
            "pay_method": ("HAWALA", "MANDAT", "ESPECES"),
            "boat": ("Embarcation pneumatique",),
        },
        prefix={
            "persons": "OCR-",
            "calls": "OCR-INT-",
            "crossings": "OCR-TRV-",
            "purchases": "OCR-ACH-",
            "vehicles": "OCR-VEH-",
        },
        decimal_comma=True,
        upper_surname=True,
        dob_noise=(0.04, 0.10, 0.01),
    ),
    "DE-BPOL": Locale(
        "de",
        "%d.%m.%Y",
        "%d.%m.%Y %H:%M",
        nationality={
            "af": "Afghanistan",
            "ir": "Iran",
            "iq": "Irak",
            "sy": "Syrien",
            "er": "Eritrea",
            "sd": "Sudan",
            "vn": "Vietnam",
            "al": "Albanien",
            "tr": "Türkei",
            "eg": "Ägypten",
            "gb": "Vereinigtes Königreich",
            "fr": "Frankreich",
            "de": "Deutschland",
        },
        words={
            "gender": ("m", "w"),
            "item": ("Schlauchboot", "Außenbordmotor", "Rettungswesten", "Kraftstoff", "Pumpe"),
            "pay_method": ("Hawala", "Überweisung", "bar"),
            "transport": ("Pkw", "Transporter", "Lkw", "Bus", "Boot", "zu Fuß"),
        },
        prefix={
            "persons": "BPOL-P-",
            "payments": "BPOL-Z-",
            "purchases": "BPOL-K-",
            "vehicles": "BPOL-FZ-",
            "legs": "BPOL-E-",
        },
        dob_noise=(0.02, 0.04, 0.01),
    ),
    "IT-SCO": Locale(
        "it",
        "%d/%m/%Y",
        "%Y-%m-%dT%H:%M:%S",
        words={
            "gender": ("M", "F"),
            "pay_method": ("hawala", "money transfer", "contanti"),
            "transport": ("auto", "furgone", "camion", "autobus", "barca", "a piedi"),
        },
        prefix={"persons": "SCO-S-", "payments": "SCO-PG-", "legs": "SCO-T-"},
        dob_noise=(0.05, 0.06, 0.02),
        missing=0.08,
    ),
    "EUROPOL-EMSC": Locale(
        "eu",
        "%Y-%m-%d",
        "%Y-%m-%dT%H:%M:%S",
        prefix={"persons": "EMSC-P-", "calls": "EMSC-C-", "payments": "EMSC-F-", "adverts": "EMSC-A-"},
        dob_noise=(0.01, 0.03, 0.0),
        missing=0.1,
    ),
}
COUNTRY = {"UK-NCA": "GB", "FR-OCRIEST": "FR", "DE-BPOL": "DE", "IT-SCO": "IT"}
FORMAT = {"UK-NCA": "csv", "FR-OCRIEST": "csv", "DE-BPOL": "xlsx", "IT-SCO": "json", "EUROPOL-EMSC": "ftm"}
MARK_HEADERS = {
    "UK-NCA": ("handling_code", "handling_note", "tlp", "grading"),
    "FR-OCRIEST": ("CODE_TRAITEMENT", "RESTRICTION", "TLP", "COTATION"),
    "DE-BPOL": ("Handhabungscode", "Handhabungshinweis", "TLP", "Bewertung"),
    "IT-SCO": ("classificazione.codice", "classificazione.nota", "classificazione.tlp", "classificazione.valutazione"),
}
#: Kinds each partner exports, with (header, field) pairs in the partner's language.
HEADERS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "UK-NCA": {
        "persons": [
            ("person_ref", "id"),
            ("surname", "last"),
            ("forenames", "first"),
            ("aliases", "alias"),
            ("dob", "dob"),
            ("place_of_birth", "birthplace"),
            ("nationality", "nationality"),
            ("sex", "gender"),
            ("mobile", "phone1"),
            ("mobile_2", "phone2"),
            ("passport_no", "passport"),
            ("subject_type", "category"),
        ],
        "calls": [
            ("call_ref", "id"),
            ("caller_ref", "caller_ref"),
            ("caller_subject_type", "caller_cat"),
            ("caller_number", "caller_phone"),
            ("receiver_ref", "receiver_ref"),
            ("receiver_subject_type", "receiver_cat"),
            ("receiver_number", "receiver_phone"),
            ("call_start", "at"),
            ("duration_s", "duration"),
        ],
        "payments": [
            ("txn_ref", "id"),
            ("payer_ref", "payer_ref"),
            ("payer_subject_type", "payer_cat"),
            ("payee_ref", "payee_ref"),
            ("payee_subject_type", "payee_cat"),
            ("amount", "amount"),
            ("currency", "currency"),
            ("txn_date", "date"),
            ("method", "method"),
            ("provider", "provider"),
        ],
        "crossings": [
            ("event_ref", "id"),
            ("event_date", "date"),
            ("departure_area", "departure"),
            ("landing_place", "arrival"),
            ("boat_hin", "vessel_id"),
            ("boat_description", "vessel_name"),
            ("engine", "engine"),
            ("persons_on_board", "people"),
            ("outcome", "outcome"),
            ("deaths", "deaths"),
            ("pilot_ref", "pilot_ref"),
            ("pilot_subject_type", "pilot_cat"),
            ("organiser_ref", "organiser_ref"),
        ],
        "adverts": [
            ("referral_ref", "id"),
            ("platform", "platform"),
            ("url", "url"),
            ("account", "account"),
            ("author_ref", "author_ref"),
            ("post_text", "text"),
            ("language", "language"),
            ("posted_at", "posted_at"),
            ("whatsapp", "phone"),
            ("price", "price"),
            ("currency", "currency"),
            ("content_type", "kind"),
        ],
        "vehicles": [("vrm_ref", "id"), ("vrm", "plate"), ("make_model", "model"), ("keeper_ref", "owner_ref")],
    },
    "FR-OCRIEST": {
        "persons": [
            ("ID_PERSONNE", "id"),
            ("NOM", "last"),
            ("PRENOM", "first"),
            ("ALIAS", "alias"),
            ("DATE_NAISSANCE", "dob"),
            ("LIEU_NAISSANCE", "birthplace"),
            ("NATIONALITE", "nationality"),
            ("SEXE", "gender"),
            ("TELEPHONE_1", "phone1"),
            ("TELEPHONE_2", "phone2"),
            ("NUM_PASSEPORT", "passport"),
            ("QUALITE", "category"),
        ],
        "calls": [
            ("ID_INTERCEPTION", "id"),
            ("ID_APPELANT", "caller_ref"),
            ("QUALITE_APPELANT", "caller_cat"),
            ("NUM_APPELANT", "caller_phone"),
            ("ID_APPELE", "receiver_ref"),
            ("QUALITE_APPELE", "receiver_cat"),
            ("NUM_APPELE", "receiver_phone"),
            ("DATE_HEURE", "at"),
            ("DUREE_SEC", "duration"),
        ],
        "crossings": [
            ("ID_EVENEMENT", "id"),
            ("DATE_EVENEMENT", "date"),
            ("LIEU_DEPART", "departure"),
            ("LIEU_ARRIVEE", "arrival"),
            ("NUM_COQUE", "vessel_id"),
            ("EMBARCATION", "vessel_name"),
            ("MOTEUR", "engine"),
            ("NB_PERSONNES", "people"),
            ("ISSUE", "outcome"),
            ("NB_DECES", "deaths"),
            ("ID_PILOTE", "pilot_ref"),
            ("QUALITE_PILOTE", "pilot_cat"),
            ("ID_ORGANISATEUR", "organiser_ref"),
        ],
        "purchases": [
            ("ID_ACHAT", "id"),
            ("ARTICLE", "item"),
            ("QUANTITE", "quantity"),
            ("ID_ACHETEUR", "buyer_ref"),
            ("ID_VENDEUR", "seller_ref"),
            ("LIEU", "place"),
            ("DATE_ACHAT", "date"),
            ("MODE_PAIEMENT", "method"),
            ("MONTANT", "amount"),
            ("DEVISE", "currency"),
        ],
        "vehicles": [
            ("ID_VEHICULE", "id"),
            ("IMMATRICULATION", "plate"),
            ("MARQUE_MODELE", "model"),
            ("ID_PROPRIETAIRE", "owner_ref"),
        ],
    },
    "DE-BPOL": {
        "persons": [
            ("Personen-ID", "id"),
            ("Familienname", "last"),
            ("Vorname", "first"),
            ("Aliasname", "alias"),
            ("Geburtsdatum", "dob"),
            ("Geburtsort", "birthplace"),
            ("Staatsangehörigkeit", "nationality"),
            ("Geschlecht", "gender"),
            ("Telefon", "phone1"),
            ("Telefon 2", "phone2"),
            ("Reisepassnummer", "passport"),
            ("Personenkategorie", "category"),
        ],
        "payments": [
            ("Zahlungs-ID", "id"),
            ("Zahler-ID", "payer_ref"),
            ("Kategorie Zahler", "payer_cat"),
            ("Empfänger-ID", "payee_ref"),
            ("Kategorie Empfänger", "payee_cat"),
            ("Betrag", "amount"),
            ("Währung", "currency"),
            ("Datum", "date"),
            ("Zahlungsart", "method"),
            ("Dienstleister", "provider"),
        ],
        "purchases": [
            ("Kauf-ID", "id"),
            ("Artikel", "item"),
            ("Menge", "quantity"),
            ("Käufer-ID", "buyer_ref"),
            ("Verkäufer-ID", "seller_ref"),
            ("Ort", "place"),
            ("Kaufdatum", "date"),
            ("Zahlungsart", "method"),
            ("Betrag", "amount"),
            ("Währung", "currency"),
        ],
        "vehicles": [
            ("Fahrzeug-ID", "id"),
            ("Kennzeichen", "plate"),
            ("Marke/Modell", "model"),
            ("Halter-ID", "owner_ref"),
        ],
        "legs": [
            ("Etappen-ID", "id"),
            ("Von", "origin"),
            ("Nach", "destination"),
            ("Verkehrsmittel", "transport"),
            ("Schleuser-ID", "operator_ref"),
            ("Geschleuste Person-ID", "traveller_ref"),
            ("Beginn", "start"),
            ("Ende", "end"),
            ("Route", "route"),
            ("Personenzahl", "people"),
        ],
    },
    "IT-SCO": {
        "persons": [
            ("id", "id"),
            ("anagrafica.cognome", "last"),
            ("anagrafica.nome", "first"),
            ("anagrafica.alias", "alias"),
            ("anagrafica.data_nascita", "dob"),
            ("anagrafica.luogo_nascita", "birthplace"),
            ("anagrafica.cittadinanza", "nation_iso"),
            ("anagrafica.sesso", "gender"),
            ("recapiti.telefoni", "phones"),
            ("documento.numero", "passport"),
            ("classificazione.categoria", "category"),
        ],
        "payments": [
            ("id", "id"),
            ("ordinante.id", "payer_ref"),
            ("ordinante.categoria", "payer_cat"),
            ("beneficiario.id", "payee_ref"),
            ("beneficiario.categoria", "payee_cat"),
            ("importo.valore", "amount"),
            ("importo.valuta", "currency"),
            ("data", "date"),
            ("canale", "method"),
            ("operatore", "provider"),
        ],
        "legs": [
            ("id", "id"),
            ("tratta.origine", "origin"),
            ("tratta.destinazione", "destination"),
            ("tratta.mezzo", "transport"),
            ("tratta.rotta", "route"),
            ("passeur.id", "operator_ref"),
            ("migrante.id", "traveller_ref"),
            ("periodo.inizio", "start"),
            ("periodo.fine", "end"),
            ("persone", "people"),
        ],
    },
}
EU_KINDS = ("persons", "calls", "payments", "adverts")


@dataclass
class Layout:
    """One data file kind of one partner: its format, headers and mapping."""

    partner: str
    kind: str
    fmt: str
    columns: list[tuple[str, str]] = field(default_factory=list)
    category: str | None = None  # Europol person files are split by data-subject category

    @property
    def slug(self) -> str:
        return self.partner.lower()

    def header(self, fld: str) -> str:
        return next(h for h, f in self.columns if f == fld)


def layouts(partner: str) -> list[Layout]:
    if partner == "EUROPOL-EMSC":
        return [Layout(partner, k, "ftm") for k in EU_KINDS]
    out = []
    for kind, cols in HEADERS[partner].items():
        marks = list(zip(MARK_HEADERS[partner], ("hcode", "hnote", "tlp", "evaluation"), strict=True))
        out.append(Layout(partner, kind, FORMAT[partner], cols + marks))
    return out


def _ref(layout: Layout, fld: str, cat: str | dict[str, str]) -> dict[str, Any]:
    """A stub Person entity for a reference column: same key_literal and key values as the person file, so the
    ids agree and the store merges them."""
    return {
        "schema": "Person",
        "keys": [layout.header(fld)],
        "key_literal": "Person",
        "markings": {"subject_category": cat},
    }


def _col(layout: Layout, fld: str, **extra: Any) -> dict[str, Any]:
    return {"column": layout.header(fld), **extra}


def _map(local: tuple[str, ...], model: tuple[str, ...]) -> dict[str, str]:
    return dict(zip(local, model, strict=True))


def mapping_for(layout: Layout) -> dict[str, Any]:
    """The mapping file (as a dict) that ingests this layout's files."""
    p = layout.partner
    loc = LOCALES[p]
    if layout.fmt == "ftm":
        eval_ = {"persons": "B2", "calls": "A1", "payments": "B2", "adverts": "B3"}[layout.kind]
        return {
            "originator": p,
            "source": {"format": "ftm"},
            "markings": {
                "handling_code": "H1" if layout.kind != "persons" else "H2",
                "tlp": "AMBER",
                "evaluation": eval_,
                "subject_category": layout.category or "suspect",
            },
        }
    h = MARK_HEADERS[p]
    source: dict[str, Any] = {"format": layout.fmt}
    if p == "FR-OCRIEST":
        source["delimiter"] = ";"
    if p == "IT-SCO":
        source["records"] = "dati.elementi"
    out: dict[str, Any] = {"originator": p}
    if p in COUNTRY:
        out["country"] = COUNTRY[p]
    out["source"] = source
    out["markings"] = {
        "handling_code": {"column": h[0]},
        "handling_note": {"column": h[1]},
        "tlp": {"column": h[2]},
        "evaluation": {"column": h[3]},
    }
    out["markings"]["subject_category"] = (
        {"column": layout.header("category")}
        if layout.kind == "persons"
        else {"crossings": "other", "legs": "suspect"}.get(layout.kind, "suspect")
    )
    out["entities"] = _ENTITIES[layout.kind](layout, loc)
    return out


def _persons(lay: Layout, loc: Locale) -> dict[str, Any]:
    props: dict[str, Any] = {
        "name": {"columns": [lay.header("first"), lay.header("last")], "join": " "},
        "firstName": _col(lay, "first"),
        "lastName": _col(lay, "last"),
        "alias": _col(lay, "alias"),
        "birthDate": _col(lay, "dob", format=loc.date_fmt),
        "birthPlace": _col(lay, "birthplace"),
        "gender": _col(lay, "gender", map=_map(loc.words["gender"], ("male", "female"))),
        "passportNumber": _col(lay, "passport"),
    }
    if any(f == "nation_iso" for _, f in lay.columns):
        props["nationality"] = _col(lay, "nation_iso")
    else:
        props["nationality"] = _col(lay, "nationality", map={v: k for k, v in loc.nationality.items()})
    if any(f == "phones" for _, f in lay.columns):
        props["phone"] = {"columns": [lay.header("phones")]}
    else:
        props["phone"] = {"columns": [lay.header("phone1"), lay.header("phone2")]}
    return {"person": {"schema": "Person", "keys": [lay.header("id")], "key_literal": "Person", "properties": props}}


def _calls(lay: Layout, loc: Locale) -> dict[str, Any]:
    return {
        "caller": _ref(lay, "caller_ref", {"column": lay.header("caller_cat")}),
        "receiver": _ref(lay, "receiver_ref", {"column": lay.header("receiver_cat")}),
        "call": {
            "schema": "Call",
            "keys": [lay.header("id")],
            "properties": {
                "caller": {"entity": "caller"},
                "receiver": {"entity": "receiver"},
                "callerNumber": _col(lay, "caller_phone"),
                "receiverNumber": _col(lay, "receiver_phone"),
                "date": _col(lay, "at", format=loc.datetime_fmt),
                "duration": _col(lay, "duration"),
            },
        },
    }


def _payments(lay: Layout, loc: Locale) -> dict[str, Any]:
    return {
        "payer": _ref(lay, "payer_ref", {"column": lay.header("payer_cat")}),
        "payee": _ref(lay, "payee_ref", {"column": lay.header("payee_cat")}),
        "payment": {
            "schema": "Payment",
            "keys": [lay.header("id")],
            "properties": {
                "payer": {"entity": "payer"},
                "beneficiary": {"entity": "payee"},
                "amount": _col(lay, "amount"),
                "currency": _col(lay, "currency"),
                "date": _col(lay, "date", format=loc.date_fmt),
                "purpose": _col(lay, "method", map=_map(loc.words.get("pay_method", PAY_METHODS), PAY_METHODS)),
                "programme": _col(lay, "provider"),
            },
        },
    }


def _crossings(lay: Layout, loc: Locale) -> dict[str, Any]:
    return {
        "pilot": _ref(lay, "pilot_ref", {"column": lay.header("pilot_cat")}),
        "organiser": _ref(lay, "organiser_ref", "suspect"),
        "boat": {
            "schema": "Vessel",
            "keys": [lay.header("vessel_id")],
            "key_literal": "Vessel",
            "properties": {
                "name": _col(lay, "vessel_name"),
                "registrationNumber": _col(lay, "vessel_id"),
                "type": {"literal": "inflatable boat"},
            },
        },
        "crossing": {
            "schema": "Crossing",
            "keys": [lay.header("id")],
            "properties": {
                "date": _col(lay, "date", format=loc.date_fmt),
                "departurePlace": _col(lay, "departure"),
                "arrivalPlace": _col(lay, "arrival"),
                "vessel": {"entity": "boat"},
                "engine": _col(lay, "engine"),
                "peopleOnBoard": _col(lay, "people"),
                "deaths": _col(lay, "deaths"),
                "outcome": _col(lay, "outcome", map=_map(loc.words.get("outcome", OUTCOMES), OUTCOMES)),
                "pilot": {"entity": "pilot"},
                "organiser": {"entity": "organiser"},
            },
        },
    }


def _purchases(lay: Layout, loc: Locale) -> dict[str, Any]:
    return {
        "buyer": _ref(lay, "buyer_ref", "suspect"),
        "seller": _ref(lay, "seller_ref", "suspect"),
        "purchase": {
            "schema": "Purchase",
            "keys": [lay.header("id")],
            "properties": {
                "itemKind": _col(lay, "item", map=_map(loc.words.get("item", ITEMS), ITEMS)),
                "quantity": _col(lay, "quantity"),
                "buyer": {"entity": "buyer"},
                "seller": {"entity": "seller"},
                "place": _col(lay, "place"),
                "date": _col(lay, "date", format=loc.date_fmt),
                "paymentMethod": _col(lay, "method", map=_map(loc.words.get("pay_method", PAY_METHODS), PAY_METHODS)),
                "amount": _col(lay, "amount"),
                "currency": _col(lay, "currency"),
            },
        },
    }


def _adverts(lay: Layout, loc: Locale) -> dict[str, Any]:
    return {
        "author": _ref(lay, "author_ref", "suspect"),
        "account": {
            "schema": "UserAccount",
            "keys": [lay.header("platform"), lay.header("account")],
            "key_literal": "UserAccount",
            "properties": {
                "username": _col(lay, "account"),
                "service": _col(lay, "platform"),
                "owner": {"entity": "author"},
            },
        },
        "advert": {
            "schema": "Advert",
            "keys": [lay.header("id")],
            "properties": {
                "platform": _col(lay, "platform"),
                "url": _col(lay, "url"),
                "author": {"entity": "author"},
                "authorAccount": {"entity": "account"},
                "bodyText": _col(lay, "text"),
                "language": _col(lay, "language"),
                "postedAt": _col(lay, "posted_at", format=loc.datetime_fmt),
                "phone": _col(lay, "phone"),
                "price": _col(lay, "price"),
                "currency": _col(lay, "currency"),
                "kind": _col(lay, "kind"),
            },
        },
    }


def _vehicles(lay: Layout, loc: Locale) -> dict[str, Any]:
    return {
        "owner": _ref(lay, "owner_ref", "suspect"),
        "vehicle": {
            "schema": "Vehicle",
            "keys": [lay.header("plate")],
            "key_literal": "Vehicle",
            "properties": {
                "registrationNumber": _col(lay, "plate"),
                "model": _col(lay, "model"),
                "name": _col(lay, "plate"),
                "owner": {"entity": "owner"},
            },
        },
    }


def _legs(lay: Layout, loc: Locale) -> dict[str, Any]:
    return {
        "operator": _ref(lay, "operator_ref", "suspect"),
        "traveller": _ref(lay, "traveller_ref", "victim"),
        "leg": {
            "schema": "Leg",
            "keys": [lay.header("id")],
            "properties": {
                "origin": _col(lay, "origin"),
                "destination": _col(lay, "destination"),
                "transport": _col(lay, "transport", map=_map(loc.words.get("transport", TRANSPORT), TRANSPORT)),
                "operator": {"entity": "operator"},
                "traveller": {"entity": "traveller"},
                "route": _col(lay, "route"),
                "startDate": _col(lay, "start", format=loc.date_fmt),
                "endDate": _col(lay, "end", format=loc.date_fmt),
                "people": _col(lay, "people"),
            },
        },
    }


_ENTITIES = {
    "persons": _persons,
    "calls": _calls,
    "payments": _payments,
    "crossings": _crossings,
    "purchases": _purchases,
    "adverts": _adverts,
    "vehicles": _vehicles,
    "legs": _legs,
}
