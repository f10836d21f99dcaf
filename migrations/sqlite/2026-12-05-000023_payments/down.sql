DROP TABLE payments;
DROP TABLE bank_notifications;
