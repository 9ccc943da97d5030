"""The reports app has no model of its own: it reads the deliveries and their daily counters
(`messaging.models.DailyDeliveryStats`), which messaging keeps."""
