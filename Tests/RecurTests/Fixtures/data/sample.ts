# A hand-written multivariate example in the UEA layout.
@problemName Sample
@timeStamps false
@missing false
@univariate false
@dimensions 2
@equalLength false
@classLabel true walk run 10

@data
1.0,2.0,3.0:4,5,6:walk
-1,0.5:2e1,3:run
7:8:10
