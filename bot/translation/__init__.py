"""Machine translation of case messages, both ways (issue 15): one small port (`port.py`), three
providers behind it (LibreTranslate, DeepL, an OpenAI-compatible chat endpoint), what must
survive translation (`protect.py`), which language a text is in (`languages.py`), the stored
translations and the resident's choice (`repository.py`), the rules (`service.py`) and what
staff and residents see (`presentation.py`). How to run it: docs/translation.md."""
