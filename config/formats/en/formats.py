# English pages keep the Vietnamese date and number formats: the documents and users expect dd/mm/yyyy.
from config.formats.vi.formats import *  # noqa: F403
