-- One database per service; each service migrates its own at start.
CREATE DATABASE registration;
CREATE DATABASE ticketing;
CREATE DATABASE notifications;
