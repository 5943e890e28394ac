ALTER TABLE "Rollouts" ADD "Revision" integer NOT NULL DEFAULT 0;

UPDATE "Rollouts" SET "Status" = 'halted', "Reason" = 'halted on upgrade: a newer rollout of its channel was active at the same time'
WHERE "Status" IN ('running', 'paused') AND EXISTS (
    SELECT 1 FROM "Rollouts" AS "Newer"
    WHERE "Newer"."TenantId" = "Rollouts"."TenantId" AND "Newer"."Channel" = "Rollouts"."Channel"
      AND "Newer"."Status" IN ('running', 'paused') AND "Newer"."CreatedAt" > "Rollouts"."CreatedAt");

CREATE UNIQUE INDEX "IX_Rollouts_Active" ON "Rollouts" ("TenantId", "Channel") WHERE "Status" IN ('running', 'paused');
