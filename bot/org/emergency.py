"""Names of the emergency services, translated through the catalogs and keyed like the TOML file."""

from __future__ import annotations

from bot.core.i18n import N_

EMERGENCY_LABELS: dict[str, str] = {
    "police": N_("Police"),
    "fire_ambulance": N_("Fire brigade and ambulance"),
    "on_call_doctor": N_("On-call doctor (not an emergency)"),
    "telefonseelsorge": N_("Telefonseelsorge – crisis line, day and night"),
    "violence_against_women": N_(
        "Hilfetelefon Gewalt gegen Frauen – violence against women, day and night, "
        "with interpreters"
    ),
    "nummer_gegen_kummer": N_("Nummer gegen Kummer – for children and young people"),
    "pregnant_women": N_("Hilfetelefon Schwangere in Not – pregnant women in need"),
}
