/** Apache Kafka: the dissector the registry lists (dissect/registry.ts). */
export { kafkaDissector, KAFKA_PORTS } from './stream.ts';
