"""Services around the live index: its lifecycle (:mod:`.live_index`) and document
upload and delete (:mod:`.documents`). The answer path is :mod:`app.answer.service`."""
