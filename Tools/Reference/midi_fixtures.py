"""MIDI fixtures for MIDIFileTests, written by mido from event lists worked out by hand (not by Recur),
and a reader that checks Recur's MIDI files the way a player would see them.

    ~/ref/bin/python Tools/Reference/midi_fixtures.py write      # Tests/RecurTests/Fixtures/music/*.mid
    ~/ref/bin/python Tools/Reference/midi_fixtures.py check A.mid B.mid …   # read back, print notes

Each fixture is the Standard MIDI File Recur must write, byte for byte, for the ABC tune beside it
(`*.abc`): 480 ticks per quarter, format 0, track name (T:), tempo (Q:, default 120 per quarter),
key signature (K:), time signature (M:, again where the metre changes), notes on channel 0 with
velocity 80 and note-off velocity 64 (running status: mido leaves out a status byte equal to the previous
one), end of track where the music ends (after a final rest).
The ticks below are computed by hand from the ABC lengths (an eighth note is 240 ticks).
"""
import os
import sys

import mido

HERE = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "RecurTests", "Fixtures", "music")

TUNES = {
    # G A B/ c/ d | f#2 z2 |] in G major, 2/4, L:1/8 — a closing rest and a sixteenth pair.
    "tiny": ("X:1\nT:Tiny\nM:2/4\nL:1/8\nK:G\nGA B/c/d | f2 z2 |]\n", "Tiny", 500000, ("G", 2, 4), [
        (0, 67, 240), (240, 69, 240), (480, 71, 120), (600, 72, 120), (720, 74, 240), (960, 78, 480),
    ], 1920, []),
    # Repeat with first and second endings, a tie over the first ending, broken rhythm, a triplet and a chord;
    # F major (B flat), 3/4, L:1/4, Q:1/4=90. Played: bar 1, ending 1, bar 1, ending 2.
    "repeats": ("X:2\nT:Repeats\nM:3/4\nL:1/4\nQ:1/4=90\nK:F\n|: F>G A |[1 B2- B :|[2 (3B/A/G/ [FA]2 |]\n", "Repeats", 666667,
                ("F", 3, 4), [
        (0, 65, 720), (720, 67, 240), (960, 69, 480), (1440, 70, 1440),
        (2880, 65, 720), (3600, 67, 240), (3840, 69, 480),
        (4320, 70, 160), (4480, 69, 160), (4640, 67, 160), (4800, 65, 960), (4800, 69, 960),
    ], 5760, []),
    # No T:, no L: (2/4 < 0.75, so a sixteenth), bar accidentals (^c lasts the bar, =c cancels it; the key's
    # c sharp returns in the next bar), octave marks, and an inline metre change to 3/8.
    "accidentals": ("X:3\nM:2/4\nK:D\n^c c =c C, | [M:3/8] c' z/ B,/ c |\n", None, 500000, ("D", 2, 4), [
        (0, 73, 120), (120, 73, 120), (240, 72, 120), (360, 49, 120),
        (480, 85, 120), (660, 59, 60), (720, 73, 120),
    ], 840, [(480, 3, 8)]),
}


def events(name):
    _, title, tempo, (key, num, den), notes, end, metre_changes = TUNES[name]
    timed = []  # (tick, order, message); order keeps the sequence Recur writes within one tick
    order = 0

    def add(tick, message):
        nonlocal order
        timed.append((tick, order, message))
        order += 1

    if title:
        add(0, mido.MetaMessage("track_name", name=title))
    add(0, mido.MetaMessage("set_tempo", tempo=tempo))
    add(0, mido.MetaMessage("key_signature", key=key))
    add(0, mido.MetaMessage("time_signature", numerator=num, denominator=den, clocks_per_click=24, notated_32nd_notes_per_beat=8))
    # Notes in the order they are played: at each note's start, its note-ons; its note-offs at its end (a chord's
    # notes in ascending pitch). A metre change comes after the note-offs of the bar before it.
    changes = list(metre_changes)
    starts = sorted({n[0] for n in notes})
    for start in starts:
        while changes and changes[0][0] <= start:
            t, n, d = changes.pop(0)
            add(t, mido.MetaMessage("time_signature", numerator=n, denominator=d, clocks_per_click=24, notated_32nd_notes_per_beat=8))
        chord = sorted(n for n in notes if n[0] == start)
        for _, pitch, _ in chord:
            add(start, mido.Message("note_on", note=pitch, velocity=80))
        for _, pitch, length in chord:
            add(start + length, mido.Message("note_off", note=pitch, velocity=64))
    timed.sort(key=lambda e: (e[0], e[1]))
    track = mido.MidiTrack()
    now = 0
    for tick, _, message in timed:
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=end - now))
    return track


def write():
    os.makedirs(HERE, exist_ok=True)
    for name, spec in TUNES.items():
        midi = mido.MidiFile(type=0, ticks_per_beat=480)
        midi.tracks.append(events(name))
        midi.save(os.path.join(HERE, name + ".mid"))
        with open(os.path.join(HERE, name + ".abc"), "w") as f:
            f.write(spec[0])
        print(name, os.path.getsize(os.path.join(HERE, name + ".mid")), "bytes")


def check(paths):
    """Reads each file with mido and prints its notes as (start tick, pitch, length); fails on unmatched note events."""
    for path in paths:
        midi = mido.MidiFile(path)
        assert midi.type in (0, 1), f"{path}: format {midi.type}"
        for track in midi.tracks:
            now, sounding, notes = 0, {}, []
            for message in track:
                now += message.time
                if message.type == "note_on" and message.velocity > 0:
                    assert message.note not in sounding, f"{path}: note {message.note} on twice at {now}"
                    sounding[message.note] = now
                elif message.type in ("note_off", "note_on"):
                    assert message.note in sounding, f"{path}: note {message.note} off without on at {now}"
                    notes.append((sounding.pop(message.note), message.note, now))
            assert not sounding, f"{path}: notes never released: {sorted(sounding)}"
            notes = [(start, pitch, end - start) for start, pitch, end in notes]
            print(f"{path}: {len(notes)} notes, {midi.length:.2f} s, ticks per beat {midi.ticks_per_beat}; first {sorted(notes)[:6]}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["write"]:
        write()
    elif sys.argv[1:2] == ["check"]:
        check(sys.argv[2:])
    else:
        sys.exit(__doc__)
