"""Whisper tiny.en's segment statistics on espeak-ng speech by language, and what the not-English rule says.

The numbers behind :data:`emoreason.perception.speech.asr.NOT_ENGLISH_SIGNS`: six sentences each in English
(en-us), German, Spanish, French and Mandarin (espeak-ng voices), decoded as the pipeline decodes them.
Run: ``PYTHONPATH=src python benchmarks/asr_language.py`` (about 30 s on 2 CPU cores).
"""

from __future__ import annotations

import json

from emoreason.io.demo_clip import speak
from emoreason.perception.speech.asr import _decode_window, decoding_stats, looks_not_english
from emoreason.perception.speech.whisper import load_whisper

S = {
 "en-us": ["I am going to the shop to buy some bread and milk today.",
           "Oh wow, I can't believe it! We won the prize. This is the best news I have heard all year.",
           "Please leave the door open when you go out, the cat wants to come back in.",
           "I am so angry with you, you never listen to anything I say.",
           "The weather was cold and grey, so we stayed at home and read books all afternoon.",
           "Thank you very much for your help yesterday, it meant a lot to me."],
 "de": ["Ich gehe heute in den Laden, um Brot und Milch zu kaufen.",
        "Das Wetter war kalt und grau, also sind wir den ganzen Nachmittag zu Hause geblieben.",
        "Ich kann es nicht glauben, wir haben den Preis gewonnen!",
        "Bitte lass die Tür offen, wenn du hinausgehst, die Katze will wieder herein.",
        "Ich bin so wütend auf dich, du hörst mir nie zu.",
        "Vielen Dank für deine Hilfe gestern, das hat mir sehr viel bedeutet."],
 "es": ["Hoy voy a la tienda a comprar pan y leche.",
        "El tiempo estaba frío y gris, así que nos quedamos en casa toda la tarde.",
        "No puedo creerlo, ¡hemos ganado el premio!",
        "Por favor, deja la puerta abierta cuando salgas, el gato quiere volver a entrar.",
        "Estoy muy enfadado contigo, nunca me escuchas.",
        "Muchas gracias por tu ayuda de ayer, significó mucho para mí."],
 "fr": ["Aujourd'hui je vais au magasin acheter du pain et du lait.",
        "Il faisait froid et gris, alors nous sommes restés à la maison tout l'après-midi.",
        "Je n'arrive pas à y croire, nous avons gagné le prix !",
        "Laisse la porte ouverte quand tu sors, s'il te plaît, le chat veut rentrer.",
        "Je suis tellement en colère contre toi, tu ne m'écoutes jamais.",
        "Merci beaucoup pour ton aide hier, cela a beaucoup compté pour moi."],
 "cmn": ["我今天要去商店买面包和牛奶。",
         "天气又冷又阴，所以我们整个下午都待在家里看书。",
         "我简直不敢相信，我们赢得了奖品！",
         "你出去的时候请把门开着，猫想回来。",
         "我对你很生气，你从来不听我说话。",
         "非常感谢你昨天的帮助，这对我意义重大。"],
}


def main() -> None:
    model = load_whisper()
    flagged: dict[str, list[bool]] = {}
    for lang, sentences in S.items():
        for sentence in sentences:
            x = speak(sentence, voice=lang)
            raw: list[tuple[int, float, float, float]] = []
            segments, _ = _decode_window(model, x, 0.0, "en", vad=False, stats=raw)
            words = [w.probability for s in segments for w in s.words]
            stats = {k: round(v, 3) for k, v in decoding_stats(raw, words).items()}
            fired = bool(words) and looks_not_english(**stats)
            flagged.setdefault(lang, []).append(fired)
            print(json.dumps({"lang": lang, **stats, "not_english": fired,
                              "text": " ".join(s.text for s in segments)[:80]}, ensure_ascii=False))
    for lang, f in flagged.items():
        print(f"{lang}: flagged {sum(f)} of {len(f)}")


if __name__ == "__main__":
    main()
