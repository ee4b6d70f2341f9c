"""Follow the money and the boat-equipment supply chain (issue 21).

``ledger`` turns the store's payments (or an AMLSim export, ``amlsim``) into one transaction table over
resolved entities; ``patterns`` finds fan-in, fan-out, cycles, pass-through, structuring and layering in it;
``follow`` traces migrants' payments to where the money ends; ``assets`` ranks what could be seized;
``buyers`` scores who buys boats and engines and profiles their sellers; ``notices`` writes warnings to
suppliers through the sharing screen; ``report`` and ``briefing`` make the briefing's section; ``evaluate``
scores the detectors against labels; ``cli`` is ``avellino money`` and ``avellino supply``.
"""
