"""The item masters of the two demo companies: what they sell, at what price and cost.

Kept as tables (``sku | name | uom | price | cost | tax % | popularity``) because that is
how a catalogue is read and reviewed. Items in the ``SRV`` family are services: untracked.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class ItemSpec:
    sku: str
    name: str
    uom: str
    price: Decimal
    cost: Decimal
    tax_rate: Decimal
    popularity: int  # relative chance of appearing on an order line

    @property
    def is_tracked(self) -> bool:
        return "-SRV-" not in self.sku


_ACME = """
AC-ELC-101|Smartphone Nova A12 64GB|unit|13500|11600|15|6
AC-ELC-102|Smartphone Nova A22 128GB|unit|19900|17100|15|5
AC-ELC-103|Smartphone Nova Pro 256GB|unit|36500|31800|15|2
AC-ELC-104|Feature Phone F10|unit|1650|1320|15|6
AC-ELC-105|Power Bank 10000mAh|unit|1450|1050|15|7
AC-ELC-106|Power Bank 20000mAh|unit|2350|1760|15|4
AC-ELC-107|USB-C Charger 25W|unit|650|430|15|8
AC-ELC-108|USB-C Charger 45W|unit|1250|880|15|4
AC-ELC-109|Bluetooth Earbuds Lite|unit|1900|1380|15|6
AC-ELC-110|Bluetooth Earbuds Pro|unit|3900|2850|15|3
AC-ELC-111|Data Cable USB-C 1m|unit|250|140|15|9
AC-ELC-112|Memory Card 64GB|unit|850|610|15|5
AC-ELC-113|Tablet Nova Tab 10in|unit|22500|19200|15|2
AC-ELC-114|Screen Protector (tempered glass)|unit|180|70|15|8
AC-ELC-115|Phone Case (silicone)|unit|350|160|15|7
AC-HAP-201|Ceiling Fan 56in|unit|3850|3050|15|7
AC-HAP-202|Ceiling Fan 48in|unit|3500|2780|15|4
AC-HAP-203|Table Fan 16in|unit|2450|1880|15|5
AC-HAP-204|Rechargeable Fan 14in|unit|4200|3290|15|5
AC-HAP-205|Rice Cooker 1.8L|unit|2650|2010|15|6
AC-HAP-206|Rice Cooker 2.8L|unit|3450|2620|15|3
AC-HAP-207|Electric Kettle 1.7L|unit|1350|960|15|6
AC-HAP-208|Blender 3-Jar 750W|unit|4900|3720|15|4
AC-HAP-209|Steam Iron 2200W|unit|2150|1590|15|4
AC-HAP-210|Microwave Oven 25L|unit|12900|10400|15|3
AC-HAP-211|Refrigerator 252L|unit|42500|36300|15|3
AC-HAP-212|Refrigerator 360L|unit|58900|50100|15|2
AC-HAP-213|LED TV 32in|unit|18500|15600|15|4
AC-HAP-214|LED TV 43in|unit|38900|33000|15|3
AC-HAP-215|LED TV 55in|unit|64500|55200|15|1
AC-HAP-216|Air Conditioner 1 Ton|unit|52000|44500|15|2
AC-HAP-217|Air Conditioner 1.5 Ton|unit|68000|58000|15|2
AC-HAP-218|IPS 600VA|unit|14800|12100|15|3
AC-HAP-219|IPS 1200VA|unit|24500|20300|15|2
AC-HAP-220|Voltage Stabilizer 1000VA|unit|3200|2380|15|4
AC-HAP-221|Water Purifier RO 7-Stage|unit|18900|15200|15|2
AC-HAP-222|Gas Stove Double Burner|unit|5600|4300|15|4
AC-HAP-223|Air Cooler 40L|unit|11500|9300|15|2
AC-HAP-224|Washing Machine 7kg|unit|32500|27600|15|2
AC-HAP-225|Deep Freezer 200L|unit|34900|29800|15|2
AC-LGT-301|LED Bulb 9W|unit|160|105|7.5|9
AC-LGT-302|LED Bulb 12W|unit|195|130|7.5|9
AC-LGT-303|LED Bulb 18W|unit|290|195|7.5|6
AC-LGT-304|LED Tube Light 20W|unit|340|235|7.5|7
AC-LGT-305|LED Panel Light 18W|unit|850|590|7.5|4
AC-LGT-306|Extension Socket 4-Way|unit|480|320|15|7
AC-LGT-307|Circuit Breaker 32A|unit|690|470|15|5
AC-LGT-308|Copper Cable 1.5rm (90m coil)|coil|3650|2980|15|4
AC-LGT-309|Emergency Light 60 LED|unit|1150|820|15|5
AC-LGT-310|Solar Home Kit 100W|kit|18500|15200|5|2
AC-HHD-401|Pressure Cooker 5L|unit|2950|2180|15|5
AC-HHD-402|Non-stick Frypan 26cm|unit|1250|860|15|5
AC-HHD-403|Melamine Dinner Set 32pc|set|3400|2450|15|4
AC-HHD-404|Cotton Bedsheet Set (Double)|set|1850|1240|5|5
AC-HHD-405|Mosquito Net (Double)|unit|750|480|5|6
AC-HHD-406|Plastic Chair (Monoblock)|unit|850|610|15|7
AC-HHD-407|Plastic Storage Drum 120L|unit|1450|1040|15|4
AC-HHD-408|Water Tank 1000L|unit|9800|8200|15|2
AC-HHD-409|Thermos Flask 1L|unit|690|450|15|5
AC-HHD-410|Bucket Set (3pc)|set|420|290|15|6
AC-HHD-411|Steel Almirah 6.5ft|unit|16500|13600|15|2
AC-HHD-412|Kitchen Knife Set 5pc|set|890|560|15|4
AC-OFF-501|Laptop Core i5 14in|unit|68500|59800|5|2
AC-OFF-502|Laptop Core i7 15in|unit|96000|84500|5|1
AC-OFF-503|Desktop Monitor 22in|unit|12400|10300|5|3
AC-OFF-504|Wireless Mouse|unit|650|420|15|7
AC-OFF-505|USB Keyboard|unit|590|390|15|6
AC-OFF-506|Laser Printer Mono|unit|16800|13900|15|2
AC-OFF-507|Toner Cartridge 85A|unit|2350|1620|15|5
AC-OFF-508|A4 Paper 80gsm (ream)|ream|480|395|5|8
AC-OFF-509|Wi-Fi Router Dual-Band|unit|2900|2110|15|5
AC-OFF-510|UPS 650VA|unit|4350|3360|15|4
AC-OFF-511|Smart Watch Fit|unit|3500|2490|15|4
AC-OFF-512|Ink Bottle Set (4 colours)|set|1050|720|15|5
AC-OFF-513|External HDD 1TB|unit|5800|4750|15|3
AC-OFF-514|Pen Drive 64GB|unit|750|520|15|7
AC-OFF-515|Smart TV Box 4K|unit|4200|3150|15|4
AC-SRV-901|Home Delivery (Dhaka city)|trip|350|150|15|5
AC-SRV-902|AC Installation|job|3500|1800|15|2
AC-SRV-903|Extended Warranty 1 Year|unit|1500|300|15|3
"""

_GLOBEX = """
GX-PMP-101|Hydraulic Pump HP-100|unit|1180|790|0|4
GX-PMP-102|Hydraulic Pump HP-200|unit|1890|1260|0|3
GX-PMP-103|Hydraulic Pump HP-350|unit|2950|1980|0|2
GX-PMP-104|Centrifugal Pump 2in|unit|780|505|0|3
GX-PMP-105|Diaphragm Pump 1in|unit|640|410|0|3
GX-MTR-201|Gear Motor 0.5 HP|unit|420|285|0|5
GX-MTR-202|Gear Motor 1 HP|unit|640|430|0|4
GX-MTR-203|Gear Motor 2 HP|unit|980|655|0|3
GX-MTR-204|AC Induction Motor 5 HP|unit|1450|980|0|3
GX-MTR-205|AC Induction Motor 10 HP|unit|2380|1610|0|2
GX-MTR-206|Servo Motor 400W|unit|520|330|0|3
GX-MTR-207|Brake Motor 3 HP|unit|1120|745|0|2
GX-CNV-301|Conveyor Roller 24in|unit|38|21|0|7
GX-CNV-302|Conveyor Roller 36in|unit|52|29|0|6
GX-CNV-303|PVC Conveyor Belt|ft|14|7.8|0|5
GX-CNV-304|Belt Conveyor Section 10ft|unit|1950|1320|0|2
GX-CNV-305|Roller Bracket Set|set|24|12.5|0|6
GX-CNV-306|Gravity Roller Conveyor 10ft|unit|690|440|0|3
GX-CNV-307|Conveyor Idler Set|set|145|92|0|4
GX-PNU-401|Pneumatic Cylinder 32mm|unit|86|51|0|6
GX-PNU-402|Pneumatic Cylinder 50mm|unit|118|71|0|5
GX-PNU-403|Pneumatic Cylinder 80mm|unit|176|106|0|3
GX-PNU-404|Solenoid Valve 1/4in|unit|64|37|0|6
GX-PNU-405|Air Filter Regulator|unit|58|33|0|5
GX-PNU-406|Push-in Fitting 8mm (10 pack)|pack|12|5.6|0|8
GX-HYD-501|Hydraulic Hose 1/2in|ft|6.5|3.4|0|6
GX-HYD-502|Hydraulic Cylinder 2x8|unit|265|170|0|4
GX-HYD-503|Hydraulic Valve Block|unit|390|245|0|3
GX-HYD-504|Pressure Gauge 0-3000 psi|unit|42|22|0|5
GX-HYD-505|Hydraulic Power Unit 5 HP|unit|3450|2280|0|1
GX-HYD-506|Quick Coupler 1/2in|unit|19|9.8|0|6
GX-BRG-601|Ball Bearing 6204-2RS|unit|6.8|3.1|0|9
GX-BRG-602|Ball Bearing 6205-2RS|unit|7.9|3.7|0|8
GX-BRG-603|Ball Bearing 6206-2RS|unit|9.6|4.5|0|7
GX-BRG-604|Pillow Block Bearing UCP205|unit|22|11.8|0|6
GX-BRG-605|Pillow Block Bearing UCP208|unit|34|18.5|0|5
GX-BRG-606|Tapered Roller Bearing 30205|unit|18|9.4|0|5
GX-FAB-701|Steel Bracket L-Type|unit|8.5|4.2|0|7
GX-FAB-702|Machine Guard Panel 4x4ft|unit|145|88|0|4
GX-FAB-703|Mounting Plate 12x12in|unit|36|19|0|5
GX-FAB-704|Weldment Frame WF-20|unit|680|430|0|2
GX-FAB-705|Enclosure NEMA 4 16x14in|unit|210|134|0|3
GX-FAB-706|Stainless Tank 50 gal|unit|1650|1090|0|1
GX-FAB-707|Steel Workbench 6ft|unit|520|330|0|3
GX-FAB-708|Tool Cabinet 8-Drawer|unit|760|480|0|2
GX-CTL-801|Control Panel CP-10|unit|2450|1620|0|2
GX-CTL-802|Control Panel CP-20|unit|3980|2640|0|1
GX-CTL-803|VFD Drive 5 HP|unit|890|600|0|3
GX-CTL-804|VFD Drive 10 HP|unit|1390|935|0|2
GX-CTL-805|PLC Starter Kit|kit|1150|760|0|2
GX-CTL-806|Proximity Sensor M18|unit|45|22|0|6
GX-CTL-807|Emergency Stop Station|unit|68|36|0|5
GX-CTL-808|Limit Switch|unit|29|14|0|6
GX-CTL-809|Temperature Controller PID|unit|115|64|0|4
GX-CTL-810|Relay Module 8-Channel|unit|38|19|0|5
GX-SAF-851|Industrial Fan 36in|unit|420|265|7.25|3
GX-SAF-852|Industrial Fan 48in|unit|590|372|7.25|2
GX-SAF-853|Pallet Jack 5500 lb|unit|465|300|7.25|3
GX-SAF-854|Safety Light Curtain|unit|1250|810|0|2
GX-SAF-855|Work Platform 3-Step|unit|385|238|7.25|2
GX-SAF-856|Convertible Hand Truck|unit|210|128|7.25|3
GX-SAF-857|Safety Glasses (12 pack)|pack|36|17|7.25|6
GX-SAF-858|Ear Muffs NRR 27|unit|19|9|7.25|6
GX-SPR-861|V-Belt A42|unit|11|4.9|0|7
GX-SPR-862|V-Belt B56|unit|15|6.8|0|6
GX-SPR-863|Timing Belt HTD 8M|unit|48|24|0|4
GX-SPR-864|Roller Chain #40 (10ft)|unit|32|16|0|5
GX-SPR-865|Sprocket 40B18|unit|21|10.5|0|5
GX-SPR-866|Jaw Coupling L100|unit|27|13|0|5
GX-SPR-867|Shaft Collar 1in (5 pack)|pack|14|6.2|0|6
GX-SPR-868|Grease Cartridge 14oz (10 pack)|pack|54|31|7.25|5
GX-SPR-869|Hex Bolt 1/2x2in (100 pack)|pack|28|13.5|0|7
GX-SPR-870|Lock Nut 1/2in (100 pack)|pack|16|7.1|0|7
GX-CHM-881|Cutting Oil 5 gal|pail|96|58|7.25|4
GX-CHM-882|Welding Wire ER70S-6 33 lb|spool|88|55|7.25|4
GX-CHM-883|Abrasive Disc 4.5in (25 pack)|pack|31|16|7.25|5
GX-CHM-884|Industrial Paint Gray 1 gal|gal|48|27|7.25|4
GX-SRV-901|Field Service Technician|hour|125|60|0|3
GX-SRV-902|Freight and Handling|shipment|85|70|0|4
GX-SRV-903|Tooling Setup Fee|job|450|180|0|1
"""


def _parse(table: str) -> tuple[ItemSpec, ...]:
    items = []
    for row in table.strip().splitlines():
        sku, name, uom, price, cost, tax, popularity = row.split("|")
        items.append(
            ItemSpec(sku, name, uom, Decimal(price), Decimal(cost), Decimal(tax), int(popularity))
        )
    return tuple(items)


CATALOGS: dict[str, tuple[ItemSpec, ...]] = {"acme": _parse(_ACME), "globex": _parse(_GLOBEX)}

# What one order line is typically worth: quantities follow from it (many bulbs, one TV).
LINE_VALUE: dict[str, Decimal] = {"acme": Decimal("26000"), "globex": Decimal("1100")}


def catalog(slug: str, count: int | None = None) -> tuple[ItemSpec, ...]:
    """The first ``count`` items of the company's catalogue, always with its services."""
    items = CATALOGS[slug]
    if count is None or count >= len(items):
        return items
    goods = [i for i in items if i.is_tracked]
    services = [i for i in items if not i.is_tracked]
    # Every family keeps a few members when scaled down: take goods round-robin by family.
    families: dict[str, list[ItemSpec]] = {}
    for item in goods:
        families.setdefault(item.sku.split("-")[1], []).append(item)
    picked: list[ItemSpec] = []
    depth = 0
    while len(picked) < max(count - len(services), 1):
        for members in families.values():
            if depth < len(members) and len(picked) < max(count - len(services), 1):
                picked.append(members[depth])
        depth += 1
    chosen = {i.sku for i in picked} | {s.sku for s in services}
    return tuple(i for i in items if i.sku in chosen)
