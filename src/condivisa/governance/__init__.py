"""Community governance: legal form, founding documents, members' register, assemblies and votes, energy fund.

- :mod:`condivisa.governance.legal_forms`: legal forms with their consequences and assembly rules (data);
- :mod:`condivisa.governance.assembly`: quorum, proxies and votes, one member one vote (pure);
- :mod:`condivisa.governance.rules_text`: the benefit-sharing regulation in Italian words matching the engine;
- :mod:`condivisa.governance.documents`: statute, internal regulation and minutes as DOCX and PDF.
"""

from condivisa.governance.assembly import AssemblyOutcome, Attendee, ItemResult, assembly_outcome, decide
from condivisa.governance.legal_forms import LegalForm, QuorumRule, legal_form, legal_forms
from condivisa.governance.rules_text import regulation_paragraphs, rule_sentences, sharing_rule_sentence

__all__ = [
    "AssemblyOutcome",
    "Attendee",
    "ItemResult",
    "LegalForm",
    "QuorumRule",
    "assembly_outcome",
    "decide",
    "legal_form",
    "legal_forms",
    "regulation_paragraphs",
    "rule_sentences",
    "sharing_rule_sentence",
]
