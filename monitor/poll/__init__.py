"""The poll stage: a source's pages, fetched through `monitor.sources`, written into the store
with their cursor in the same transaction, then linked to customers. One job per source."""
