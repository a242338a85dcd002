"""Usage events (``llm_provider.request_started.v1``, ``request_completed.v1``,
``failure.v1``) published through FastStream to Kafka, NATS, RabbitMQ or Redis Streams."""
