"""Where every session takes place: the centre inside Brussels-Central station."""

STATION = {"fr": "Bruxelles-Central", "nl": "Brussel-Centraal", "en": "Brussels-Central"}

ADDRESS = {
    "fr": "Atelier, gare de Bruxelles-Central, Carrefour de l'Europe 2, 1000 Bruxelles",
    "nl": "Atelier, station Brussel-Centraal, Europakruispunt 2, 1000 Brussel",
    "en": "Atelier, Brussels-Central station, Carrefour de l'Europe 2, 1000 Brussels",
}
