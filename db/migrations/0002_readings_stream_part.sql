ALTER TABLE "temperature_readings" DROP CONSTRAINT "temperature_readings_stream_seq_uq";--> statement-breakpoint
ALTER TABLE "temperature_readings" ADD COLUMN "stream_part" smallint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "temperature_readings" ADD CONSTRAINT "temperature_readings_stream_key_uq" UNIQUE("stream_seq","stream_part");