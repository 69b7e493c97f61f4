"""Guessing which of Rapport's fields each column of a file holds, from its header.

The import page shows every source column with a drop-down of the kind's fields; this
module picks the first choice of each. A header is matched, in order, by the names of a
recognised export (HubSpot, Salesforce), by a field's own name, by the synonyms below
(English, French, German and Spanish spellings, folded: case, accents and punctuation do
not count), and last by a close spelling of one of those (rapidfuzz), so "Emial" or
"Post code" still find their field. Each field is guessed for one column at most: a person
can still map two columns to one field (they are joined with a space).
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from db.imports.files import FORMATS, detect_format

# fmt: off
# Synonyms shared by every kind that has the field.
COMMON: dict[str, tuple[str, ...]] = {
    "email": (
        "email", "e-mail", "email address", "e-mail address", "mail", "work email",
        "primary email", "courriel", "adresse email", "adresse e-mail", "adresse mail",
        "e-mail-adresse", "emailadresse", "correo", "correo electronico", "email principal",
    ),
    "street": (
        "street", "address", "street address", "address line 1", "address 1", "street 1",
        "mailing street", "adresse", "rue", "adresse postale", "strasse", "straße",
        "anschrift", "strasse und hausnummer", "direccion", "calle", "domicilio",
    ),
    "locality": (
        "city", "town", "locality", "mailing city", "ville", "commune", "localite", "stadt",
        "ort", "wohnort", "ciudad", "localidad", "municipio", "poblacion",
    ),
    "postcode": (
        "postcode", "post code", "postal code", "zip", "zip code", "zipcode",
        "mailing postal code", "code postal", "cp", "plz", "postleitzahl", "codigo postal",
    ),
    "region": (
        "region", "state", "county", "province", "state/region", "state or province",
        "departement", "bundesland", "kanton", "provincia", "comunidad autonoma",
    ),
    "country": (
        "country", "country/region", "mailing country", "nation", "pays", "land", "staat",
        "pais",
    ),
    "owner": (
        "owner", "contact owner", "account owner", "record owner", "assigned to",
        "sales rep", "proprietaire", "responsable", "charge de compte", "besitzer",
        "verantwortlich", "zustandig", "betreuer", "propietario", "asignado a",
    ),
    "external_ref": (
        "record id", "id", "external id", "external reference", "reference", "ref",
        "customer number", "customer id", "reference externe", "identifiant", "referenz",
        "kundennummer", "externe id", "referencia", "numero de cliente", "id externo",
    ),
    "notes": (
        "notes", "note", "comments", "comment", "description", "remarks", "remarques",
        "commentaire", "commentaires", "notizen", "notiz", "bemerkungen", "kommentar",
        "notas", "comentarios", "observaciones",
    ),
}
# Synonyms of one kind's fields (where a word means different fields in different kinds).
BY_KIND: dict[str, dict[str, tuple[str, ...]]] = {
    "contacts": {
        "given_name": (
            "first name", "firstname", "forename", "given name", "christian name", "first",
            "prenom", "vorname", "rufname", "nombre", "nombres", "nombre de pila",
        ),
        "family_name": (
            "last name", "lastname", "surname", "family name", "last", "nom",
            "nom de famille", "nachname", "familienname", "zuname", "apellido", "apellidos",
            "primer apellido",
        ),
        "email2": (
            "email 2", "secondary email", "other email", "alternate email", "additional email",
            "second email", "autre email", "email secondaire", "zweite e-mail",
            "weitere e-mail", "correo secundario", "otro correo",
        ),
        "phone": (
            "phone", "phone number", "telephone", "tel", "work phone", "business phone",
            "office phone", "landline", "telephone fixe", "numero de telephone", "telefon",
            "telefonnummer", "festnetz", "telefono", "numero de telefono", "telefono fijo",
        ),
        "mobile": (
            "mobile", "mobile phone", "mobile phone number", "mobile number", "cell",
            "cell phone", "cellphone", "portable", "telephone portable", "mobile perso",
            "handy", "mobiltelefon", "mobilnummer", "handynummer", "movil", "celular",
            "telefono movil",
        ),
        "job_title": (
            "job title", "title", "position", "role", "job", "poste", "fonction",
            "intitule du poste", "berufsbezeichnung", "stelle", "funktion",
            "cargo", "puesto", "titulo del puesto",
        ),
        "organisation": (
            "company", "company name", "organisation", "organization", "account",
            "account name", "employer", "entreprise", "societe", "organisme", "firma",
            "unternehmen", "arbeitgeber", "empresa", "compania", "organizacion",
        ),
        "street2": (
            "address line 2", "address 2", "street 2", "address line two",
            "complement d'adresse", "adresse ligne 2", "adresszusatz", "direccion 2",
            "direccion linea 2",
        ),
        "date_of_birth": (
            "date of birth", "birth date", "birthdate", "dob", "birthday", "born",
            "date de naissance", "ne le", "geburtsdatum", "geboren am", "fecha de nacimiento",
        ),
        "identifier": (
            "identifier", "national id", "id number", "patient number", "nhs number",
            "member number", "membership number", "numero d'identification", "numero de membre",
            "ausweisnummer", "mitgliedsnummer", "dni", "nie", "numero de identificacion",
        ),
        "tags": (
            "tags", "tag", "labels", "keywords", "etiquettes", "mots cles", "schlagworter",
            "stichworter", "etiquetas", "palabras clave",
        ),
        "kind": ("contact type", "type", "kind", "type de contact", "kontakttyp", "tipo"),
        "preferred_channel": (
            "preferred channel", "preferred contact method", "contact preference",
            "canal prefere", "bevorzugter kanal", "canal preferido",
        ),
    },
    "organizations": {
        "name": (
            "name", "company name", "organisation name", "organization name", "account name",
            "company", "nom de l'entreprise", "raison sociale", "entreprise", "firmenname",
            "firma", "unternehmen", "nombre de la empresa", "razon social", "empresa",
        ),
        "domain": (
            "domain", "website", "web site", "url", "company domain name", "domain name",
            "site web", "site internet", "webseite", "internetseite", "sitio web", "dominio",
        ),
        "industry": (
            "industry", "sector", "secteur", "secteur d'activite", "branche", "industrie",
            "industria",
        ),
        "size": (
            "size", "employees", "number of employees", "headcount", "company size", "effectif",
            "nombre d'employes", "mitarbeiter", "anzahl mitarbeiter", "mitarbeiterzahl",
            "empleados", "numero de empleados", "tamano",
        ),
    },
    "deals": {
        "title": (
            "deal name", "deal", "opportunity", "opportunity name", "name", "subject",
            "nom de l'affaire", "affaire", "opportunite", "titre", "geschaft",
            "verkaufschance", "titel", "oportunidad", "negocio", "nombre del negocio", "titulo",
        ),
        "pipeline": (
            "pipeline", "sales pipeline", "pipeline de vente", "vertriebspipeline", "embudo",
        ),
        "stage": (
            "stage", "deal stage", "stage name", "phase", "sales stage", "etape", "stufe",
            "etapa", "fase",
        ),
        "status": ("status", "deal status", "statut", "estado"),
        "amount": (
            "amount", "value", "deal value", "deal amount", "revenue", "montant", "valeur",
            "betrag", "wert", "umsatz", "importe", "monto", "valor",
        ),
        "currency": (
            "currency", "currency code", "devise", "monnaie", "wahrung", "moneda", "divisa",
        ),
        "probability": (
            "probability", "win probability", "probabilite", "wahrscheinlichkeit",
            "probabilidad",
        ),
        "expected_close": (
            "close date", "expected close date", "closing date", "expected close",
            "date de cloture", "date de cloture prevue", "abschlussdatum",
            "voraussichtliches abschlussdatum", "fecha de cierre", "fecha de cierre prevista",
        ),
        "organisation": (
            "company", "account", "associated company", "organisation", "organization",
            "account name", "entreprise", "societe", "firma", "unternehmen", "empresa",
            "cuenta",
        ),
        "contact_email": (
            "contact email", "associated contact", "contact", "email du contact",
            "kontakt e-mail", "ansprechpartner", "correo del contacto", "contacto",
        ),
        "contact_external_ref": ("contact id", "contact record id", "contact reference"),
        "source": (
            "source", "lead source", "deal source", "origin", "origine", "quelle", "herkunft",
            "origen", "fuente",
        ),
        "lost_reason": (
            "lost reason", "closed lost reason", "reason lost", "loss reason",
            "raison de la perte", "motif de perte", "verlustgrund", "motivo de perdida",
        ),
    },
    "employees": {
        "name": (
            "name", "full name", "employee name", "employee", "nom", "nom complet",
            "vollstandiger name", "mitarbeiter", "mitarbeitername", "nombre", "nombre completo",
            "empleado",
        ),
        "department": (
            "department", "dept", "division", "service", "departement", "abteilung",
            "departamento",
        ),
        "team": ("team", "squad", "group", "equipe", "gruppe", "equipo", "grupo"),
        "location": (
            "location", "site", "office", "workplace", "lieu", "lieu de travail", "standort",
            "arbeitsort", "ubicacion", "oficina", "sede",
        ),
        "manager_email": (
            "manager", "manager email", "line manager", "reports to", "supervisor",
            "responsable", "manager e-mail", "vorgesetzter", "fuhrungskraft", "jefe",
            "supervisor directo",
        ),
        "start_date": (
            "start date", "hire date", "date hired", "joined", "date d'embauche",
            "date d'entree", "eintrittsdatum", "einstellungsdatum", "fecha de inicio",
            "fecha de alta", "fecha de contratacion",
        ),
        "employment_type": (
            "employment type", "contract type", "contract", "type de contrat",
            "beschaftigungsart", "vertragsart", "tipo de contrato",
        ),
        "left_on": (
            "leaving date", "left", "left on", "end date", "termination date", "date de depart",
            "date de sortie", "austrittsdatum", "fecha de baja", "fecha de salida",
        ),
    },
    "interactions": {
        "contact_email": ("contact email", "email", "e-mail", "correo", "courriel"),
        "contact_external_ref": (
            "contact id", "contact record id", "record id", "contact reference",
        ),
        "channel": ("channel", "type", "activity type", "medium", "canal", "kanal", "tipo"),
        "direction": ("direction", "inbound/outbound", "sens", "richtung", "direccion"),
        "purpose": (
            "purpose", "reason", "objectif", "motif", "zweck", "anlass", "proposito", "motivo",
        ),
        "subject": ("subject", "title", "topic", "objet", "sujet", "betreff", "thema", "asunto"),
        "body": (
            "body", "content", "message", "text", "details", "notes", "contenu", "inhalt",
            "nachricht", "cuerpo", "contenido", "mensaje",
        ),
        "occurred_at": (
            "date", "occurred at", "timestamp", "activity date", "time", "date de l'activite",
            "datum", "zeitpunkt", "fecha", "fecha de la actividad",
        ),
        "sentiment": ("sentiment", "mood", "tone", "ressenti", "stimmung", "sentimiento"),
    },
}
# fmt: on
# The columns a rejected-rows file adds before the row's own: never imported, so the file
# can be fixed and uploaded again as it is.
REJECT_COLUMNS = ("rejected: row", "rejected: column", "rejected: reason")
# How close a header must be to a known spelling (rapidfuzz ratio, 0–100) to be guessed.
SIMILAR = 80


@dataclass(frozen=True)
class Guess:
    """The field guessed for one source column (None: not imported), and why."""

    column: str
    field: str | None
    why: str


def fold(header: str) -> str:
    """A header as it is compared: lower case, without accents, punctuation as spaces."""
    text = unicodedata.normalize("NFKD", header.replace("ß", "ss"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def synonyms(kind: str, fields: Iterable[str]) -> dict[str, str]:
    """Every folded spelling of this kind's fields, to its field (the field names too)."""
    wanted = set(fields)
    table: dict[str, str] = {}
    for name in sorted(wanted):
        table.setdefault(fold(name), name)
    for source in (BY_KIND.get(kind, {}), COMMON):  # the kind's own meaning of a word wins
        for name, spellings in source.items():
            if name in wanted:
                for spelling in spellings:
                    table.setdefault(fold(spelling), name)
    return table


def guess_fields(
    headers: Sequence[str], *, kind: str, fields: Iterable[str], source_format: str = "auto"
) -> list[Guess]:
    """For each header, in order, the field it most likely holds (or None)."""
    fields = frozenset(fields)
    fmt = detect_format(list(headers)) if source_format == "auto" else source_format
    known = {fold(k): v for k, v in FORMATS.get(fmt, {}).get(kind, {}).items() if v in fields}
    table = synonyms(kind, fields)
    spellings = list(table)
    taken: set[str] = set()
    guesses: list[Guess] = []
    rejects = {fold(c) for c in REJECT_COLUMNS}
    for header in headers:
        key = fold(header)
        found: tuple[str, str] | None = None
        if key in rejects:
            guesses.append(Guess(header, None, "the rejected-rows file's own column"))
            continue
        if key in known:
            found = (known[key], f"{fmt} export column")
        elif key in table:
            found = (table[key], "same name" if table[key] == key.replace(" ", "_") else "synonym")
        elif len(key) >= 5:
            close = process.extractOne(key, spellings, scorer=fuzz.ratio, score_cutoff=SIMILAR)
            if close is not None:
                found = (table[close[0]], f"spelt like {close[0]!r}")
        if found is None or found[0] in taken:
            guesses.append(Guess(header, None, "no field matches" if found is None else "taken"))
            continue
        taken.add(found[0])
        guesses.append(Guess(header, found[0], found[1]))
    return guesses


# How the mapping screen names a field (the rest: the field's name in words).
FIELD_LABELS = {
    "email2": "Second email",
    "street2": "Street, line 2",
    "locality": "Town or city",
    "external_ref": "External reference (source system's id)",
    "organisation": "Organisation (name or domain)",
    "owner": "Owner (username or email)",
    "tags": "Tags (separated by ; or ,)",
    "kind": "Kind (person or organisation contact)",
    "date_of_birth": "Date of birth",
    "expected_close": "Expected close date",
    "probability": "Probability (%)",
    "contact_email": "Contact's email",
    "contact_external_ref": "Contact's external reference",
    "manager_email": "Manager's email",
    "left_on": "Leaving date",
    "occurred_at": "When it happened",
    "domain": "Web domain",
}


def field_label(name: str) -> str:
    """A field's name as a person reads it."""
    return FIELD_LABELS.get(name) or name.replace("_", " ").capitalize()
