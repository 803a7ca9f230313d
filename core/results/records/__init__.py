"""The typed records of the files a Run holds besides its search result (``core.bumphunt.result``): the manifest,
the evaluation, the attachments (Lund, trigger, null calibration, injection scan). Their base is
``core.records.Record``."""
