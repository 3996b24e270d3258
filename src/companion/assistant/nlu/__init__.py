"""Natural-language understanding: intents, confidence and entities for one chat message.

    from companion.assistant.nlu import NLU, MasterData
    nlu = NLU.load(cache_dir=settings.data_dir / "nlu")
    nlu.parse("overdue invoices for Rahim last month", today=today,
              fiscal_year_start_month=7, master=MasterData.build(customers=[(1, "Rahim Traders")]))

Pure library: it reads no database and calls no network; master data comes from the caller
and must hold the caller's company's records only.
"""

from companion.assistant.nlu.classifier import OUT_OF_SCOPE, ClassifierConfig, IntentClassifier
from companion.assistant.nlu.entities.master import MasterData, MasterRecord
from companion.assistant.nlu.metrics import EvalExample, EvalReport, evaluate
from companion.assistant.nlu.rasa import TrainingData, TrainingDataError, load_rasa_nlu
from companion.assistant.nlu.understanding import (
    ACTIONS,
    DATA_QUERIES,
    DIALOGUE,
    NLU,
    Understanding,
)

__all__ = [
    "ACTIONS",
    "DATA_QUERIES",
    "DIALOGUE",
    "NLU",
    "OUT_OF_SCOPE",
    "ClassifierConfig",
    "EvalExample",
    "EvalReport",
    "IntentClassifier",
    "MasterData",
    "MasterRecord",
    "TrainingData",
    "TrainingDataError",
    "Understanding",
    "evaluate",
    "load_rasa_nlu",
]
