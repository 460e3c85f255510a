"""Multilingual speech-to-text on espeak-ng speech: language-ID accuracy, WER/CER, and the path's speed.

``accuracy``: six sentences in each of en, de, es, fr, it, fi, zh, ar, ru and ja (zh spoken from tone-
numbered pinyin by espeak-ng's ``cmn-latn-pinyin``, whose ``cmn`` voice reads most characters as letters
and digits here; ja from kana; both scored against the usual spelling; the English ones include the demo
clip's words), each padded with 0.5 s of silence and transcribed as the pipeline does
(:func:`asr.transcribe` with the speech span known): the identified language and its probability; the
word error rate (character error rate for zh and ja) with the language identified and with it given.
Then language ID on each language's six sentences joined (20-30 s, what the pipeline's 30-s window sees
in a longer clip), and, on English (12 sentences, en-us and en-gb voices), Whisper tiny.en against
Whisper base (both told "en"), with the ASR seconds per second of audio.

``speed``: a fresh process per clip analyses a 720p clip (bench_analyze.py's builder; English or German
espeak-ng sentences repeated) with ``modalities="voice,text"`` (the audio path; the face stage does not
depend on the language): start-up (process start -> first result on the 10-s clip, minus that clip's time
warm), the ASR stage's seconds and the whole call's, as real-time factors, and the process' CPU seconds
(all threads; less moved by other jobs on a shared machine than the wall clock); medians of 3 warm runs
for clips up to 60 s, one run beyond. The English clip also runs on
the code at ``--before`` (default: main before this work, tiny.en with no language ID): the baseline.
Also the one-off join of the two Whisper base packages into an empty cache, and the check on later calls.
``load``: the seconds to load Whisper tiny.en and Whisper base, each in fresh processes.

``real``: recorded (acted) speech from the shared data (``--data``, default ``../shared/data``): language
ID on every k-th EmoDB clip (German) and RAVDESS clip (English), and on the RAVDESS clips (two known
sentences) the WER of tiny.en and base told "en". Needs the shared data; reads it, copies nothing.

    PYTHONPATH=src python benchmarks/asr_languages.py accuracy
    PYTHONPATH=src python benchmarks/asr_languages.py speed --durations 10 30 600

espeak-ng speech is clean and robotic: the numbers rank models and languages, they do not predict real
recordings (accents, noise, emotion).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import numpy as np
from asr_language import S
from bench_analyze import make_clip
from code_at import REPO, code_at

from emoreason.io.audio import ArrayAudio
from emoreason.io.demo_clip import DEMO_SENTENCE, speak
from emoreason.perception.speech import language_id
from emoreason.perception.speech.asr import transcribe
from emoreason.perception.speech.whisper import default_whisper_dir, load_whisper
from emoreason.perception.speech.whisper_models import join_split_model, multilingual_whisper_dir

assert DEMO_SENTENCE in S["en-us"]  # the demo clip's words are among the English sentences

JA = [("今日はお店にパンと牛乳を買いに行きます。",
       "きょうは おみせに パンと ぎゅうにゅうを かいに いきます。"),
      ("天気が寒くて曇っていたので、午後はずっと家にいました。",
       "てんきが さむくて くもっていたので、ごごは ずっと いえに いました。"),
      ("信じられない、私たちが賞を取りました！", "しんじられない、わたしたちが しょうを とりました！"),
      ("出かけるときはドアを開けておいてください、猫が戻りたがっています。",
       "でかける ときは ドアを あけて おいて ください、ねこが もどりたがって います。"),
      ("あなたにはとても怒っています、いつも私の話を聞かないから。",
       "あなたには とても おこって います、いつも わたしの はなしを きかないから。"),
      ("昨日は手伝ってくれて本当にありがとう、とても助かりました。",
       "きのうは てつだって くれて ほんとうに ありがとう、とても たすかりました。")]
MORE = {
    "it": ["Oggi vado al negozio a comprare pane e latte.",
           "Il tempo era freddo e grigio, così siamo rimasti a casa tutto il pomeriggio.",
           "Non posso crederci, abbiamo vinto il premio!",
           "Per favore lascia la porta aperta quando esci, il gatto vuole rientrare.",
           "Sono così arrabbiato con te, non mi ascolti mai.",
           "Grazie mille per il tuo aiuto di ieri, ha significato molto per me."],
    "fi": ["Menen tänään kauppaan ostamaan leipää ja maitoa.",
           "Sää oli kylmä ja harmaa, joten pysyimme kotona koko iltapäivän.",
           "En voi uskoa sitä, me voitimme palkinnon!",
           "Jätä ovi auki, kun lähdet ulos, kissa haluaa tulla takaisin sisään.",
           "Olen niin vihainen sinulle, et koskaan kuuntele minua.",
           "Kiitos paljon eilisestä avustasi, se merkitsi minulle paljon."],
    "ar": ["اليوم سأذهب إلى المتجر لشراء الخبز والحليب.",
           "كان الطقس باردا وغائما، لذلك بقينا في البيت طوال المساء.",
           "لا أستطيع أن أصدق، لقد فزنا بالجائزة!",
           "من فضلك اترك الباب مفتوحا عندما تخرج، القطة تريد أن تعود.",
           "أنا غاضب جدا منك، أنت لا تستمع إلي أبدا.",
           "شكرا جزيلا على مساعدتك أمس، لقد كانت تعني لي الكثير."],
    "ru": ["Сегодня я иду в магазин купить хлеба и молока.",
           "Погода была холодной и серой, поэтому мы весь день сидели дома.",
           "Не могу поверить, мы выиграли приз!",
           "Пожалуйста, оставь дверь открытой, когда уходишь, кошка хочет вернуться.",
           "Я так зол на тебя, ты никогда меня не слушаешь.",
           "Большое спасибо за твою вчерашнюю помощь, это много для меня значило."],
}
ZH_PINYIN = ["wo3 jin1 tian1 yao4 qu4 shang1 dian4 mai3 mian4 bao1 he2 niu2 nai3.",
             "tian1 qi4 you4 leng3 you4 yin1, suo3 yi3 wo3 men5 zheng3 ge4 xia4 wu3 dou1 dai1 zai4 jia1 li3 "
             "kan4 shu1.",
             "wo3 jian3 zhi2 bu4 gan3 xiang1 xin4, wo3 men5 ying2 de2 le5 jiang3 pin3!",
             "ni3 chu1 qu4 de5 shi2 hou4 qing3 ba3 men2 kai1 zhe5, mao1 xiang3 hui2 lai2.",
             "wo3 dui4 ni3 hen3 sheng1 qi4, ni3 cong2 lai2 bu4 ting1 wo3 shuo1 hua4.",
             "fei1 chang2 gan3 xie4 ni3 zuo2 tian1 de5 bang1 zhu4, zhe4 dui4 wo3 yi4 yi4 zhong4 da4."]
EXTRA_EN = ["Can you tell me where the nearest train station is?",
            "I was really scared when the lights went out last night.",
            "She laughed so hard that she started to cry.",
            "We need to finish this report before the meeting on Monday.",
            "That smell is disgusting, please open a window.",
            "My brother moved to a small town by the sea last spring."]
#: name -> (Whisper code, espeak-ng voice, [(reference text, text spoken)]).
SETS = {voice: (code, voice, [(t, t) for t in S[voice]]) for voice, code in
        (("en-us", "en"), ("de", "de"), ("es", "es"), ("fr", "fr"))}
SETS["zh"] = ("zh", "cmn-latn-pinyin", list(zip(S["cmn"], ZH_PINYIN)))
SETS.update({v: (v, v, [(t, t) for t in ts]) for v, ts in MORE.items()})
SETS["ja"] = ("ja", "ja", JA)
CHARACTER_LANGUAGES = ("zh", "ja")
PAD_S = 0.5


def normalise(text: str, language: str) -> list[str]:
    """Words (characters for zh/ja) compared case-, punctuation- and symbol-insensitively (NFKC; Arabic
    also without its short-vowel marks)."""
    text = unicodedata.normalize("NFKC", text).lower()
    keep = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "PS" or (language == "ar" and cat == "Mn"):
            keep.append(" ")
        else:
            keep.append(ch)
    text = "".join(keep)
    if language in CHARACTER_LANGUAGES:
        return [c for c in text if not c.isspace()]
    return re.split(r"\s+", text.strip()) if text.strip() else []


def edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def error_rate(pairs: list[tuple[str, str]], language: str) -> float:
    """Corpus-level WER/CER: total edits over total reference tokens."""
    edits = sum(edit_distance(normalise(ref, language), normalise(hyp, language)) for ref, hyp in pairs)
    return edits / max(1, sum(len(normalise(ref, language)) for ref, _ in pairs))


def _audio(spoken: str, voice: str) -> tuple[ArrayAudio, list[tuple[float, float]]]:
    x = speak(spoken, voice=voice)
    pad = np.zeros(int(PAD_S * 16000), np.float32)
    return ArrayAudio(np.concatenate([pad, x, pad])), [(PAD_S, PAD_S + len(x) / 16000)]


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def accuracy(languages: list[str] | None = None) -> None:
    """The tables above for the sets named in ``languages`` (all when None); the English model comparison
    runs when English is among them."""
    base_dir = multilingual_whisper_dir()
    sets = {k: v for k, v in SETS.items() if languages is None or v[0] in languages}
    table = []
    for name, (code, voice, items) in sets.items():
        auto, forced, hits, probs = [], [], 0, []
        for ref, spoken in items:
            audio, speech = _audio(spoken, voice)
            t = transcribe(audio, speech)
            f = transcribe(audio, speech, language=code)
            hits += t.language == code
            probs.append(t.language_probability)
            auto.append((ref, t.text))
            forced.append((ref, f.text))
            print(json.dumps({"voice": name, "language": t.language, "p": t.language_probability,
                              "auto": t.text, "forced": f.text, "source": t.source, "notes": t.notes},
                             ensure_ascii=False), flush=True)
        table.append((code, name, len(items), hits / len(items), float(np.mean(probs)),
                      error_rate(auto, code), error_rate(forced, code)))
    print("\nlanguage  set    n  LID-acc  mean-p  WER/CER(identified)  WER/CER(given)")
    for code, voice, n, acc, p, e_auto, e_forced in table:
        unit = "CER" if code in CHARACTER_LANGUAGES else "WER"
        print(f"{code:<8}  {voice:<5} {n:>2}  {acc:7.2f}  {p:6.2f}  {unit} {e_auto:6.3f}          "
              f"{unit} {e_forced:6.3f}")
    print(f"overall LID accuracy: {sum(r[3] * r[2] for r in table) / sum(r[2] for r in table):.3f} "
          f"over {sum(r[2] for r in table)} utterances")
    joined_lid(base_dir, sets)
    if "en" in (v[0] for v in sets.values()):
        english_models(base_dir)


def joined_lid(base_dir: Path, sets: dict) -> None:
    """Language ID on each language's six sentences joined with 0.3 s pauses (the first 30 s of speech)."""
    model = load_whisper(base_dir)
    print("\nlanguage ID on the six sentences joined: language  seconds of speech  identified (p)")
    hits = 0
    for code, voice, items in sets.values():
        pause = np.zeros(int(0.3 * 16000), np.float32)
        parts = [np.concatenate([speak(spoken, voice=voice), pause]) for _, spoken in items]
        audio = ArrayAudio(np.concatenate(parts))
        got, p, _ = language_id.identify(model, audio.read(0.0, 30.0), vad=False)
        hits += got == code
        print(f"  {code:<3} {min(audio.duration, 30.0):5.1f}  {got} ({p:.2f})", flush=True)
    print(f"  correct: {hits} of {len(sets)}")


def english_models(base_dir: Path) -> None:
    english: dict[str, list] = {"tiny.en": [], "base": []}
    for voice in ("en-us", "en-gb"):
        for text in S["en-us"] + EXTRA_EN:
            audio, speech = _audio(text, voice)
            for name, folder in (("tiny.en", default_whisper_dir()), ("base", base_dir)):
                r, dt = _timed(lambda f=folder, a=audio, s=speech: transcribe(a, s, model_dir=f,
                                                                              language="en"))
                english[name].append((text, r.text, dt, audio.duration))
                print(json.dumps({"voice": voice, "model": name, "text": r.text}), flush=True)
    print("\nEnglish (language given; en-us and en-gb voices): model  WER  ASR s per audio s (median)")
    for name, rows in english.items():
        wer = error_rate([(r, h) for r, h, _, _ in rows], "en")
        rtf = float(np.median([dt / d for _, _, dt, d in rows]))
        print(f"  {name:<8} {wer:.3f}  {rtf:.3f}   (n={len(rows)})")


CHILD = """
import json, resource, statistics, sys, time
spawned, clip, first_clip, repeats = float(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
from emoreason.api import analyze
analyze(first_clip, modalities="voice,text")
first_at = time.time() - spawned
def cpu():
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime
def timed(path):
    t0, c0 = time.perf_counter(), cpu()
    r = analyze(path, modalities="voice,text")
    return r, time.perf_counter() - t0, cpu() - c0
runs = [timed(clip) for _ in range(repeats)]
r = runs[0][0]
wall = statistics.median(w for _, w, _ in runs)
cpu_s = statistics.median(c for _, _, c in runs)
asr = statistics.median(x.provenance["timings"].get("asr") for x, _, _ in runs)
warm_first = wall if clip == first_clip else statistics.median(timed(first_clip)[1] for _ in range(repeats))
startup = first_at - warm_first
print(json.dumps({"startup": startup, "wall": wall, "asr": asr, "cpu": cpu_s,
                  "duration": r.duration, "language": getattr(r, "language", None),
                  "p": getattr(r, "language_probability", None),
                  "source": r.modalities["text"].details.get("transcript_source")}))
"""


def speed(durations: list[float], keep: Path | None, before: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, code_at(before) as before_src:
        cache = Path(tmp) / "cache"
        (_, join_s) = _timed(lambda: join_split_model(*_parts(), cache / "whisper-base", _sha()))
        (_, check_s) = _timed(lambda: join_split_model(*_parts(), cache / "whisper-base", _sha()))
        print(f"join of the two packages into an empty cache: {join_s:.2f} s; check on a later call: "
              f"{check_s * 1000:.1f} ms")
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"\nbefore = {before}; after = this tree. load average {os.getloadavg()[0]:.1f}")
        print("clip    voice  code    start-up s  ASR s  ASR RTF  whole s  whole RTF  CPU s  language (p)"
              "  model")
        clips: dict[tuple[str, float], Path] = {}
        for voice in ("en-us", "de"):
            for seconds in sorted({10.0, *durations}):
                clips[voice, seconds] = folder / f"clip_{voice}_{int(seconds)}s.mp4"
                if not clips[voice, seconds].exists():
                    make_clip(clips[voice, seconds], seconds, text=" ".join(S[voice]), voice=voice)
        for seconds in durations:
            for voice, side in (("en-us", "before"), ("en-us", "after"), ("de", "after")):
                src = before_src if side == "before" else REPO / "src"
                env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=str(src))
                repeats = 3 if seconds <= 60 else 1
                argv = [str(time.time()), str(clips[voice, seconds]), str(clips[voice, 10.0]), str(repeats)]
                out = subprocess.run([sys.executable, "-c", CHILD, *argv], capture_output=True, text=True,
                                     env=env, check=False)
                if out.returncode != 0:
                    raise SystemExit(out.stderr[-3000:])
                r = json.loads(out.stdout.strip().splitlines()[-1])
                d = r["duration"]
                print(f"{seconds:>5g} s  {voice:<5}  {side:<6}  {r['startup']:10.2f}  {r['asr']:5.2f}"
                      f"  {r['asr'] / d:7.3f}  {r['wall']:7.2f}  {r['wall'] / d:9.3f}  {r['cpu']:5.1f}"
                      f"  {r['language']} ({r['p']})  {r['source']}", flush=True)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")


LOAD_CHILD = """
import sys, time
from emoreason.perception.speech.whisper import default_whisper_dir, load_whisper
from emoreason.perception.speech.whisper_models import multilingual_whisper_dir
folder = default_whisper_dir() if sys.argv[1] == "tiny.en" else multilingual_whisper_dir()
t0 = time.perf_counter()
load_whisper(folder)
print(time.perf_counter() - t0)
"""


def load_times(runs: int = 3) -> None:
    """Seconds to load each model (faster-whisper imported, the join already cached) in fresh processes."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    for name in ("tiny.en", "base"):
        times = []
        for _ in range(runs):
            out = subprocess.run([sys.executable, "-c", LOAD_CHILD, name], capture_output=True, text=True,
                                 env=env, check=True)
            times.append(float(out.stdout.split()[-1]))
        print(f"load {name}: median {float(np.median(times)):.2f} s over {runs} fresh processes "
              f"({', '.join(f'{t:.2f}' for t in times)})")


def real(root: Path, n: int) -> None:
    import csv

    import soundfile as sf

    base_dir = multilingual_whisper_dir()
    model = load_whisper(base_dir)
    english: dict[str, list[tuple[str, str]]] = {"tiny.en": [], "base": []}
    for folder, code in (("emodb", "de"), ("ravdess_speech", "en")):
        rows = list(csv.DictReader(open(root / folder / "labels.csv", encoding="utf-8")))
        rows = rows[::max(1, len(rows) // n)][:n]
        found: dict[str, int] = {}
        probs = []
        for row in rows:
            x, sr = sf.read(str(root / folder / row["path"]), dtype="float32", always_2d=False)
            audio = ArrayAudio(x if x.ndim == 1 else x.mean(axis=1), sr)
            got, p, _ = language_id.identify(model, audio.read(), vad=True)
            found[got] = found.get(got, 0) + 1
            probs.append(p)
            if code == "en":
                for name, f in (("tiny.en", default_whisper_dir()), ("base", base_dir)):
                    heard = transcribe(audio, model_dir=f, language="en").text
                    english[name].append((row["statement"], heard))
        ranked = dict(sorted(found.items(), key=lambda kv: -kv[1]))
        print(f"{folder}: {len(rows)} clips, identified {found.get(code, 0) / len(rows):.3f} as {code} "
              f"(median p {float(np.median(probs)):.2f}); all: {ranked}", flush=True)
    for name, pairs in english.items():
        print(f"RAVDESS WER, {name} told 'en': {error_rate(pairs, 'en'):.3f} over {len(pairs)} clips")


def _parts():
    from emoreason.perception.speech import whisper_models as wm

    pieces = [wm._package_file(*piece) for piece in wm.PIECES]
    return pieces, [pieces[0].parent / n for n in wm.SIDE_FILES]


def _sha() -> str:
    from emoreason.perception.speech.whisper_models import MODEL_SHA256

    return MODEL_SHA256


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("part", choices=("accuracy", "speed", "load", "real"))
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data",
                    help="real: the shared data")
    ap.add_argument("-n", type=int, default=60, help="real: clips per corpus")
    ap.add_argument("--durations", type=float, nargs="+", default=[10.0, 30.0])
    ap.add_argument("--keep", type=Path, help="keep the generated clips in this folder")
    ap.add_argument("--before", default="9c50ce5", help="git ref of the baseline code (speed)")
    ap.add_argument("--languages", nargs="+", help="accuracy: only these Whisper codes (default: all)")
    args = ap.parse_args(argv)
    print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu cores:", os.cpu_count())
    if args.part == "accuracy":
        accuracy(args.languages)
    elif args.part == "load":
        load_times()
    elif args.part == "real":
        real(args.data, args.n)
    else:
        speed(args.durations, args.keep, args.before)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
