CREATE TABLE "stores" (
	"id" text PRIMARY KEY NOT NULL,
	"market_id" text NOT NULL,
	"name" text NOT NULL,
	"lat" double precision NOT NULL,
	"lng" double precision NOT NULL,
	"address" text NOT NULL,
	"open_hours" jsonb,
	"is_pickup_point" boolean DEFAULT false NOT NULL,
	"pickup_kind" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "stores_lat_range" CHECK ("stores"."lat" between -90 and 90),
	CONSTRAINT "stores_lng_range" CHECK ("stores"."lng" between -180 and 180),
	CONSTRAINT "stores_pickup_kind_valid" CHECK (("stores"."is_pickup_point" and "stores"."pickup_kind" is not null and "stores"."pickup_kind" in ('community_point', 'locker'))
        or (not "stores"."is_pickup_point" and "stores"."pickup_kind" is null))
);
--> statement-breakpoint
CREATE TABLE "compartments" (
	"vehicle_id" text NOT NULL,
	"compartment_id" text NOT NULL,
	"temperature_class" text NOT NULL,
	"min_c" double precision NOT NULL,
	"max_c" double precision NOT NULL,
	"capacity_litres" integer NOT NULL,
	CONSTRAINT "compartments_pk" PRIMARY KEY("vehicle_id","compartment_id"),
	CONSTRAINT "compartments_temperature_class_valid" CHECK ("compartments"."temperature_class" in ('ambient', 'chilled', 'frozen')),
	CONSTRAINT "compartments_range_ordered" CHECK ("compartments"."min_c" <= "compartments"."max_c"),
	CONSTRAINT "compartments_capacity_positive" CHECK ("compartments"."capacity_litres" > 0)
);
--> statement-breakpoint
CREATE TABLE "couriers" (
	"id" text PRIMARY KEY NOT NULL,
	"market_id" text NOT NULL,
	"name" text NOT NULL,
	"phone_enc" text,
	"vehicle_mode" text NOT NULL,
	"capacity" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "couriers_vehicle_mode_valid" CHECK ("couriers"."vehicle_mode" in ('walk', 'bicycle', 'ebike', 'motorbike', 'car', 'van')),
	CONSTRAINT "couriers_capacity_positive" CHECK ("couriers"."capacity" > 0)
);
--> statement-breakpoint
CREATE TABLE "vehicles" (
	"id" text PRIMARY KEY NOT NULL,
	"market_id" text NOT NULL,
	"plate" text NOT NULL,
	"courier_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "zones" (
	"id" text PRIMARY KEY NOT NULL,
	"market_id" text NOT NULL,
	"name" text NOT NULL,
	"polygon" jsonb NOT NULL,
	"h3_resolution" smallint NOT NULL,
	"h3_cells" text[] NOT NULL,
	"delivery_fee_fen" integer NOT NULL,
	"promised_minutes" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "zones_h3_resolution_range" CHECK ("zones"."h3_resolution" between 0 and 15),
	CONSTRAINT "zones_delivery_fee_nonnegative" CHECK ("zones"."delivery_fee_fen" >= 0),
	CONSTRAINT "zones_promised_minutes_positive" CHECK ("zones"."promised_minutes" > 0)
);
--> statement-breakpoint
CREATE TABLE "order_events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"name" text NOT NULL,
	"data" jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"stream_seq" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orders" (
	"id" text PRIMARY KEY NOT NULL,
	"shop_order_id" text NOT NULL,
	"store_id" text NOT NULL,
	"market_id" text NOT NULL,
	"status" text NOT NULL,
	"temperature_class" text NOT NULL,
	"shopper_name_enc" text,
	"shopper_phone_enc" text,
	"shopper_address_enc" text,
	"dropoff_lat" double precision,
	"dropoff_lng" double precision,
	"pickup_point_id" text,
	"goods_fen" integer NOT NULL,
	"delivery_fee_fen" integer NOT NULL,
	"discount_fen" integer DEFAULT 0 NOT NULL,
	"total_fen" integer NOT NULL,
	"placed_at" timestamp with time zone NOT NULL,
	"ready_at" timestamp with time zone,
	"promised_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orders_status_valid" CHECK ("orders"."status" in ('placed', 'confirmed', 'ready', 'assigned', 'picked_up', 'delivered', 'cancelled', 'failed')),
	CONSTRAINT "orders_temperature_class_valid" CHECK ("orders"."temperature_class" in ('ambient', 'chilled', 'frozen')),
	CONSTRAINT "orders_amounts_nonnegative" CHECK ("orders"."goods_fen" >= 0 and "orders"."delivery_fee_fen" >= 0 and "orders"."discount_fen" >= 0 and "orders"."total_fen" >= 0),
	CONSTRAINT "orders_destination_present" CHECK ("orders"."pickup_point_id" is not null or ("orders"."dropoff_lat" is not null and "orders"."dropoff_lng" is not null)),
	CONSTRAINT "orders_dropoff_range" CHECK (("orders"."dropoff_lat" is null or "orders"."dropoff_lat" between -90 and 90)
        and ("orders"."dropoff_lng" is null or "orders"."dropoff_lng" between -180 and 180))
);
--> statement-breakpoint
CREATE TABLE "assignments" (
	"id" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"courier_id" text NOT NULL,
	"assigned_at" timestamp with time zone NOT NULL,
	"assigned_by" text NOT NULL,
	"locked" boolean DEFAULT false NOT NULL,
	"released_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "offers" (
	"id" text PRIMARY KEY NOT NULL,
	"order_id" text NOT NULL,
	"courier_id" text NOT NULL,
	"offered_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"answered_at" timestamp with time zone,
	"outcome" text,
	"decline_reason" text,
	CONSTRAINT "offers_outcome_valid" CHECK ("offers"."outcome" is null or "offers"."outcome" in ('accepted', 'declined', 'expired')),
	CONSTRAINT "offers_expiry_after_offer" CHECK ("offers"."expires_at" >= "offers"."offered_at"),
	CONSTRAINT "offers_decline_reason_only_when_declined" CHECK ("offers"."decline_reason" is null or ("offers"."outcome" is not null and "offers"."outcome" = 'declined'))
);
--> statement-breakpoint
CREATE TABLE "routes" (
	"courier_id" text NOT NULL,
	"version" integer NOT NULL,
	"stops" jsonb NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "routes_pk" PRIMARY KEY("courier_id","version"),
	CONSTRAINT "routes_version_positive" CHECK ("routes"."version" > 0)
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_role" text NOT NULL,
	"actor_id" text NOT NULL,
	"action" text NOT NULL,
	"target" text NOT NULL,
	"reason" text,
	"data" jsonb,
	"event_id" text,
	CONSTRAINT "audit_log_event_id_uq" UNIQUE("event_id"),
	CONSTRAINT "audit_log_actor_role_valid" CHECK ("audit_log"."actor_role" in ('courier', 'dispatcher', 'store', 'shopper', 'admin', 'system'))
);
--> statement-breakpoint
CREATE TABLE "certificates" (
	"order_id" text PRIMARY KEY NOT NULL,
	"vehicle_id" text NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"final_hash" text NOT NULL,
	"signature" text NOT NULL,
	"document" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "excursions" (
	"id" text PRIMARY KEY NOT NULL,
	"vehicle_id" text NOT NULL,
	"compartment_id" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"kind" text NOT NULL,
	"peak_c" double precision,
	CONSTRAINT "excursions_kind_valid" CHECK ("excursions"."kind" in ('out_of_range', 'sensor_silent')),
	CONSTRAINT "excursions_ended_after_start" CHECK ("excursions"."ended_at" is null or "excursions"."ended_at" >= "excursions"."started_at")
);
--> statement-breakpoint
CREATE TABLE "temperature_readings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"vehicle_id" text NOT NULL,
	"compartment_id" text NOT NULL,
	"read_at" timestamp with time zone NOT NULL,
	"celsius" double precision NOT NULL,
	"door_open" boolean DEFAULT false NOT NULL,
	"stream_seq" bigint NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "temperature_readings_stream_seq_uq" UNIQUE("stream_seq")
);
--> statement-breakpoint
ALTER TABLE "compartments" ADD CONSTRAINT "compartments_vehicle_id_vehicles_id_fk" FOREIGN KEY ("vehicle_id") REFERENCES "public"."vehicles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "stores_market_idx" ON "stores" USING btree ("market_id");--> statement-breakpoint
CREATE INDEX "couriers_market_idx" ON "couriers" USING btree ("market_id");--> statement-breakpoint
CREATE INDEX "vehicles_market_idx" ON "vehicles" USING btree ("market_id");--> statement-breakpoint
CREATE INDEX "vehicles_courier_idx" ON "vehicles" USING btree ("courier_id");--> statement-breakpoint
CREATE INDEX "zones_market_idx" ON "zones" USING btree ("market_id");--> statement-breakpoint
CREATE INDEX "zones_h3_cells_idx" ON "zones" USING gin ("h3_cells");--> statement-breakpoint
CREATE INDEX "order_events_order_at_idx" ON "order_events" USING btree ("order_id","at");--> statement-breakpoint
CREATE INDEX "order_events_stream_seq_idx" ON "order_events" USING btree ("stream_seq");--> statement-breakpoint
CREATE UNIQUE INDEX "orders_store_shop_order_uq" ON "orders" USING btree ("store_id","shop_order_id");--> statement-breakpoint
CREATE INDEX "orders_store_status_idx" ON "orders" USING btree ("store_id","status");--> statement-breakpoint
CREATE INDEX "orders_market_status_idx" ON "orders" USING btree ("market_id","status");--> statement-breakpoint
CREATE INDEX "orders_placed_at_idx" ON "orders" USING btree ("placed_at");--> statement-breakpoint
CREATE UNIQUE INDEX "assignments_active_order_uq" ON "assignments" USING btree ("order_id") WHERE "assignments"."released_at" is null;--> statement-breakpoint
CREATE INDEX "assignments_order_idx" ON "assignments" USING btree ("order_id","assigned_at");--> statement-breakpoint
CREATE INDEX "assignments_courier_idx" ON "assignments" USING btree ("courier_id","assigned_at");--> statement-breakpoint
CREATE INDEX "offers_order_idx" ON "offers" USING btree ("order_id","offered_at");--> statement-breakpoint
CREATE INDEX "offers_courier_idx" ON "offers" USING btree ("courier_id","offered_at");--> statement-breakpoint
CREATE INDEX "audit_log_target_at_idx" ON "audit_log" USING btree ("target","at");--> statement-breakpoint
CREATE INDEX "audit_log_actor_at_idx" ON "audit_log" USING btree ("actor_id","at");--> statement-breakpoint
CREATE INDEX "audit_log_at_idx" ON "audit_log" USING btree ("at");--> statement-breakpoint
CREATE INDEX "certificates_vehicle_issued_idx" ON "certificates" USING btree ("vehicle_id","issued_at");--> statement-breakpoint
CREATE INDEX "excursions_vehicle_compartment_started_idx" ON "excursions" USING btree ("vehicle_id","compartment_id","started_at");--> statement-breakpoint
CREATE INDEX "temperature_readings_vehicle_compartment_read_at_idx" ON "temperature_readings" USING btree ("vehicle_id","compartment_id","read_at");