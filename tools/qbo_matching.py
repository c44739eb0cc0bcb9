"""Matching of QuickBooks name-list objects (customers, vendors, items) with Odoo records.

Pure functions (no Odoo): the qbo.match model feeds them both sides and stores what they decide.
Evidence is weighed strongest first; at each level a QuickBooks object and an Odoo record pair up
only when they are each other's single candidate. Anything else at that level is *ambiguous*: it
waits for a person, and weaker evidence never overrides it. A pair is linked without a person only
on strong evidence (`AUTO_LINK_CONFIDENCE`); a merely similar name is only ever proposed.

QuickBooks masks tax identifiers in its answers (only the last characters are visible), so a tax
id never decides alone: its visible end must agree *and* the postal code or the normalised name.
"""
import difflib
import re
import unicodedata
from dataclasses import dataclass, field

# Words that say what kind of legal entity a company is, not which one it is (dropped at the end of a name).
LEGAL_SUFFIXES = frozenset({
    'inc', 'incorporated', 'corp', 'corporation', 'co', 'company', 'ltd', 'limited', 'llc', 'llp', 'lp', 'plc',
    'gmbh', 'ag', 'kg', 'mbh', 'sa', 'sarl', 'sas', 'bv', 'nv', 'pty', 'srl', 'spa', 'ab', 'oy', 'as', 'pc',
})
# Levels of evidence, strongest first: (reason, confidence).
LEVELS = (('marker', 100), ('email', 95), ('code', 95), ('tax_id', 90), ('name', 85))
# Confidence from which a single candidate is linked without a person.
AUTO_LINK_CONFIDENCE = 85
# A name this similar (difflib ratio of the normalised names) is proposed, never linked by itself, when
# its words differ from the other's by typos only: as many words, each at least `SIMILAR_WORD_RATIO` alike.
# "Alder Brok Logistics" is proposed for "Alder Brook Logistics"; "Iris Isle Dental" never for "Iris Vale
# Dental", nor "Northwind Traders" for "Northwind Trading Co": other words are other companies.
SIMILAR_NAME_RATIO = 0.85
SIMILAR_WORD_RATIO = 0.75
SIMILAR_NAME_CONFIDENCE = 70
# Visible characters of a masked tax id needed for it to count at all.
TAX_ID_MIN_VISIBLE = 4
# Confidence of an exact name whose countries differ: the same name in two countries is often two companies.
OTHER_COUNTRY_CONFIDENCE = 60

_DROPPED = re.compile(r"[.'’`]")
_SEPARATORS = re.compile(r"[^\w]+")
_MASK = re.compile(r"^[X*•x]+")


def normalize_name(name):
    """The name a person would say: no case, accents, punctuation, extra spaces, leading "The" or legal suffix.

    ``"  The ACME, Inc. "`` and ``"Acme Incorporated"`` both give ``"acme"``; ``"Müller GmbH & Co. KG"``
    gives ``"muller"``. A name made only of such words keeps them (``"The Company"`` -> ``"the company"``).
    """
    text = unicodedata.normalize('NFKD', name or '')
    text = ''.join(ch for ch in text if not unicodedata.combining(ch)).lower().replace('&', ' and ')
    words = _SEPARATORS.sub(' ', _DROPPED.sub('', text)).split()
    kept = list(words)
    if kept and kept[0] == 'the':
        kept = kept[1:]
    while kept and (kept[-1] in LEGAL_SUFFIXES or kept[-1] == 'and'):
        kept.pop()
    return ' '.join(kept or words)


def normalize_email(email):
    """The addresses of an e-mail field (QuickBooks and Odoo both allow several), lower case."""
    return {part for part in re.split(r"[\s,;]+", (email or '').strip().lower()) if '@' in part}


def normalize_code(code):
    return re.sub(r"\s+", '', (code or '').strip().lower())


def normalize_postal(postal):
    return re.sub(r"[\s-]+", '', (postal or '').strip().lower())


def tax_id_visible(masked):
    """The visible end of a masked QuickBooks tax id (``"XXXXX6789"`` -> ``"6789"``), or ``''``."""
    visible = _MASK.sub('', re.sub(r"[\s.-]+", '', masked or '')).upper()
    return visible if len(visible) >= TAX_ID_MIN_VISIBLE else ''


def normalize_tax_id(vat):
    return re.sub(r"[\s.-]+", '', vat or '').upper()


@dataclass
class Party:
    """One side's record as the matcher sees it.

    ``key``: QuickBooks Id or Odoo id; ``tax_id``: masked (QuickBooks) or full (Odoo);
    ``marker``: on a QuickBooks object, the Odoo id named by our marker (objects we created).
    """
    key: object
    names: tuple = ()
    emails: frozenset = frozenset()
    tax_id: str = ''
    postal: str = ''
    country: str = ''
    code: str = ''
    marker: object = None
    name_keys: frozenset = field(init=False)

    def __post_init__(self):
        self.name_keys = frozenset(filter(None, (normalize_name(name) for name in self.names)))


@dataclass
class Proposal:
    """What the matcher says about one pair, or one record alone (the other key None).

    ``state``: linked (a confident single match), proposed (a person confirms), ambiguous (several
    candidates at the same level: a person decides), qbo_only, odoo_only.
    """
    qbo_key: object
    odoo_key: object
    state: str
    reason: str = ''
    confidence: int = 0
    note: str = ''


def _edges(level, qbo, odoo):
    """{(qbo key, odoo key)} supported by the evidence of `level` between the unassigned records."""
    index = {}

    def keys_of(party, side):
        if level == 'marker':
            return {party.marker} if side == 'qbo' and party.marker is not None else (
                {party.key} if side == 'odoo' else set())
        if level == 'email':
            return party.emails
        if level == 'code':
            return {party.code} if party.code else set()
        if level == 'name':
            return party.name_keys
        return set()

    if level == 'tax_id':
        pairs = set()
        for q in qbo.values():
            visible = tax_id_visible(q.tax_id)
            if not visible:
                continue
            for o in odoo.values():
                full = normalize_tax_id(o.tax_id)
                if not full.endswith(visible):
                    continue
                if (q.postal and q.postal == o.postal) or (q.name_keys & o.name_keys):
                    pairs.add((q.key, o.key))
        return pairs
    for o in odoo.values():
        for value in keys_of(o, 'odoo'):
            index.setdefault(value, set()).add(o.key)
    pairs = set()
    for q in qbo.values():
        for value in keys_of(q, 'qbo'):
            pairs.update((q.key, o_key) for o_key in index.get(value, ()))
    return pairs


def _components(pairs):
    """Connected groups of a set of (qbo key, odoo key) edges, each as its list of edges."""
    parent = {}

    def find(node):
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for q_key, o_key in pairs:
        parent[find(('q', q_key))] = find(('o', o_key))
    groups = {}
    for q_key, o_key in sorted(pairs, key=repr):
        groups.setdefault(find(('q', q_key)), []).append((q_key, o_key))
    return list(groups.values())


def _typo_ratio(a, b):
    """How alike two normalised names are (0-1) when they differ by typos only, else 0."""
    words_a, words_b = a.split(), b.split()
    if len(words_a) != len(words_b):
        return 0.0
    for word_a, word_b in zip(words_a, words_b):
        if word_a != word_b and difflib.SequenceMatcher(None, word_a, word_b).ratio() < SIMILAR_WORD_RATIO:
            return 0.0
    return difflib.SequenceMatcher(None, a, b).ratio()


def _similar_edges(qbo, odoo):
    """Each unassigned Odoo record's most similar QuickBooks name(s) at or above `SIMILAR_NAME_RATIO`.

    Only QuickBooks objects sharing a word with the record are compared (not every pair).
    """
    by_word = {}
    for q in qbo.values():
        for name in q.name_keys:
            for word in name.split():
                by_word.setdefault(word, set()).add(q.key)
    edges = {}
    for o in odoo.values():
        best, best_ratio = set(), SIMILAR_NAME_RATIO
        candidates = {q_key for name in o.name_keys for word in name.split() for q_key in by_word.get(word, ())}
        for q_key in sorted(candidates, key=repr):
            ratio = max((_typo_ratio(a, b) for a in o.name_keys for b in qbo[q_key].name_keys), default=0.0)
            if ratio > best_ratio + 1e-9:
                best, best_ratio = {q_key}, ratio
            elif abs(ratio - best_ratio) <= 1e-9:
                best.add(q_key)
        for q_key in best:
            edges[q_key, o.key] = best_ratio
    return edges


def match(qbo_parties, odoo_parties, linked=()):
    """Propose links between QuickBooks objects and Odoo records.

    :param qbo_parties: `Party` list of the QuickBooks side
    :param odoo_parties: `Party` list of the Odoo side
    :param linked: (qbo key, odoo key) pairs already linked (a binding or a mapping): kept as they are
    :return: list of `Proposal`, every record of both sides in exactly one of them, except the
        records of an ambiguous group, which appear once per candidate pair
    """
    qbo = {p.key: p for p in qbo_parties}
    odoo = {p.key: p for p in odoo_parties}
    proposals = []
    for q_key, o_key in linked:
        qbo.pop(q_key, None)
        odoo.pop(o_key, None)
        proposals.append(Proposal(q_key, o_key, 'linked', 'link', 100))
    for reason, confidence in LEVELS:
        for group in _components(_edges(reason, qbo, odoo)):
            q_keys = sorted({q for q, _o in group}, key=repr)
            o_keys = sorted({o for _q, o in group}, key=repr)
            if len(q_keys) == 1 and len(o_keys) == 1:
                q_key, o_key = group[0]
                state, conf, note = 'linked', confidence, ''
                if reason == 'name' and qbo[q_key].country and odoo[o_key].country \
                        and qbo[q_key].country != odoo[o_key].country:
                    state, conf, note = 'proposed', OTHER_COUNTRY_CONFIDENCE, 'countries differ'
                if conf < AUTO_LINK_CONFIDENCE:
                    state = 'proposed'
                proposals.append(Proposal(q_key, o_key, state, reason, conf, note))
            else:
                note = f"{len(q_keys)} QuickBooks / {len(o_keys)} Odoo candidates"
                proposals.extend(Proposal(q, o, 'ambiguous', reason, confidence // 2, note) for q, o in group)
            for q_key in q_keys:
                qbo.pop(q_key)
            for o_key in o_keys:
                odoo.pop(o_key)
    similar = _similar_edges(qbo, odoo)
    for group in _components(similar):
        q_keys = {q for q, _o in group}
        o_keys = {o for _q, o in group}
        single = len(q_keys) == 1 and len(o_keys) == 1
        for q_key, o_key in group:
            confidence = round(similar[q_key, o_key] * SIMILAR_NAME_CONFIDENCE)
            proposals.append(Proposal(q_key, o_key, 'proposed' if single else 'ambiguous', 'similar',
                                      confidence if single else confidence // 2))
        for q_key in q_keys:
            qbo.pop(q_key)
        for o_key in o_keys:
            odoo.pop(o_key)
    proposals.extend(Proposal(q_key, None, 'qbo_only') for q_key in sorted(qbo, key=repr))
    proposals.extend(Proposal(None, o_key, 'odoo_only') for o_key in sorted(odoo, key=repr))
    return proposals
