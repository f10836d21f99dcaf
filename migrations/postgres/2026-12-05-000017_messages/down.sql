DROP TABLE application_message_reads;
DROP TABLE application_messages;
