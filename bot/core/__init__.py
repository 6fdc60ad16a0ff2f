"""Infrastructure every feature uses: settings, the database, encryption at rest, the clock,
catalogs and the project's paths. Knows no feature."""
