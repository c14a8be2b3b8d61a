"""Memory layout of the model: indices into the per-tile state, static and diagnostic
vectors (compile-time constants for the kernels), with names and units.

Struct of arrays over tiles: a block holds ``state (n_tile, N_STATE)``,
``tile_static (n_tile, N_TILE_STATIC)``, ``parameters (n_tile, N_PARAMETER)``, all float64.
"""

# prognostic state of a tile
S_C_LAB = 0
S_C_FOL = 1
S_C_ROOT = 2
S_C_WOOD = 3
S_C_LIT = 4
S_C_SOM = 5
S_W_CANOPY = 6
S_W_SURFACE = 7
S_W_ROOT = 8
S_SNOW = 9
S_SNOW_DENSITY = 10
S_SNOW_ALBEDO = 11
S_T_SOIL = 12
N_STATE = 13
STATE_NAMES = ("c_labile", "c_foliage", "c_root", "c_wood", "c_litter", "c_som",
               "canopy_water", "soil_water_surface", "soil_water_root", "snow_water",
               "snow_density", "snow_albedo", "soil_temperature")
CARBON_STATES = (S_C_LAB, S_C_FOL, S_C_ROOT, S_C_WOOD, S_C_LIT, S_C_SOM)
WATER_STATES = (S_W_CANOPY, S_W_SURFACE, S_W_ROOT, S_SNOW)

# static properties of a tile (from its PFT, soil and position)
T_LATITUDE = 0
T_LONGITUDE = 1
T_IS_C4 = 2
T_HEIGHT = 3
T_NSCALE = 4
T_ROOTING_DEPTH = 5
T_THETA_SAT = 6
T_THETA_FC = 7
T_THETA_WP = 8
T_THETA_RES = 9
T_ALBEDO_DRY = 10
T_ALBEDO_WET = 11
T_COVER = 12
N_TILE_STATIC = 13

# hourly diagnostics of tile_hour (electron transport per ground area, for the SIF
# operator: canopy total and per layer; soil water index w_r / W_r,max and plant water
# status E_tr / E_demand for the L-VOD operator, MODEL_SPEC 6.4)
D_GPP = 0
D_RA = 1
D_RH = 2
D_NEE = 3
D_TRANSPIRATION = 4
D_SOIL_EVAPORATION = 5
D_INTERCEPTION_EVAPORATION = 6
D_SUBLIMATION = 7
D_RUNOFF = 8
D_PRECIPITATION = 9
D_MELT = 10
D_PAR = 11
D_APAR = 12
D_LAI = 13
D_SM_SURFACE = 14
D_T_CANOPY = 15
D_FPASM = 16
D_ELECTRON_TRANSPORT = 17
D_ELECTRON_TRANSPORT_1 = 18
D_ELECTRON_TRANSPORT_2 = 19
D_ELECTRON_TRANSPORT_3 = 20
D_FAPAR = 21
D_MU = 22
D_ALBEDO_BG = 23
D_T_AIR = 24
D_SOIL_WATER_INDEX = 25
D_PLANT_WATER_STATUS = 26
D_F_DIR = 27
N_DIAG = 28
DIAG_NAMES = ("gpp", "ra", "rh", "nee", "transpiration", "soil_evaporation",
              "interception_evaporation", "sublimation", "runoff", "precipitation", "melt",
              "par", "apar", "lai", "sm_surface", "t_canopy", "fpasm", "electron_transport",
              "electron_transport_1", "electron_transport_2", "electron_transport_3",
              "fapar", "mu", "albedo_bg", "t_air", "soil_water_index", "plant_water_status",
              "f_dir")
DIAG_UNITS = ("gC m-2 d-1",) * 4 + ("kg m-2 h-1",) * 7 + ("W m-2", "W m-2", "m2 m-2",
              "m3 m-3", "degC", "1") + ("mol m-2 s-1",) * 4 + ("1", "1", "1", "degC", "1",
                                                                "1", "1")

# a snapshot of a tile at a sampled hour: the state after the hour, then the hour's
# diagnostics (observation operators read these; tccas.model.driver.Samples)
N_SNAPSHOT = N_STATE + N_DIAG

# constants of a tile derived once per run from its parameters and static properties
# (kernels.tile_hour.tile_constants); the adjoint back-propagates through them once
V_SIN_LATITUDE = 0
V_COS_LATITUDE = 1
V_AERODYNAMIC_CONDUCTANCE = 2
V_SURFACE_CAPACITY = 3
V_SURFACE_FIELD_CAPACITY = 4
V_ROOT_CAPACITY = 5
V_ONSET_WIDTH = 6
V_ONSET_OFFSET = 7
V_ONSET_PEAK = 8
V_FALL_WIDTH = 9
V_FALL_OFFSET = 10
V_FALL_PEAK = 11
V_WOOD_LOSS = 12
V_ROOT_LOSS = 13
N_DERIVED = 14
