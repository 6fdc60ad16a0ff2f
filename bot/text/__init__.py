"""Pure functions over what people type: normalisation, scripts, crisis signs, German dates."""
