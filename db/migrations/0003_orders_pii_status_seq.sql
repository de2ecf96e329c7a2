ALTER TABLE "orders" ADD COLUMN "shopper_door_note_enc" text;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "status_seq" bigint DEFAULT 0 NOT NULL;